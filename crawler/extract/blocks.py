"""Blocks: a fragment of a page cut into paragraph-level text units, each with the structure it sits in.

`segment(fragment, zone)` walks a fragment once, without recursion, and returns its Blocks in page
order. Block elements (<p>, <div>, <table>, <center>, headings, lists...) and a double <br> end a
paragraph, as a reader sees them; a single <br> only starts a new line inside one. For each block
it records what the cleaning's structural signals read (crawler/extract/cleaning.py):

* `sig`, the block's **structural signature**: the elements that hold all of its text, from the
  fragment down, compressed to tokens (`p`, `p@c` for a centred paragraph, `div.x` for a div of
  class x, `table`, `center`, `i`, `b`, `small`, `font`, `span.x`, `li`, `h` ...; links are left
  out). A story paragraph of this site is `p` or nothing at all (text between <br><br>); a
  newsletter box is `table`, a credit line `p/i`, an appeal `div.sup-box/small`.
* how much of its text is inside links (`link_chars`), and whether it opens with a bold lead-in;
* whether it comes right after an image box (`after_image`: the cleaning put a marker there);
* its text (single <br>s as spaces), its `lines` (split at single <br>s) and its `key`:
  the text normalised for comparing pages (lower case, digits, month names and the page's author
  masked, punctuation dropped), what the learned template counts (crawler/extract/boilerplate.py).

Blocks are plain picklable data: an extraction worker makes them, the crawl process judges them.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import lxml.etree as etree

#: elements that start and end a paragraph
BLOCK_TAGS = frozenset((
    "p", "div", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "li", "ul", "ol", "dl", "dt", "dd",
    "h1", "h2", "h3", "h4", "h5", "h6", "center", "blockquote", "hr", "section", "article", "main",
    "figure", "figcaption", "pre", "address", "caption", "body", "html", "form", "fieldset", "legend",
    "x-image",
))
#: the marker the image handling leaves where an image box was (crawler/extract/cleaning.py)
IMAGE_MARK = "x-image"
#: containers that add nothing to a signature (the table token stands for its rows and cells)
_SILENT = frozenset(("tbody", "thead", "tfoot", "tr", "td", "th", "html", "body", "ul", "ol", "dl", "a",
                     "abbr", "cite", "q", "sup", "sub", "nobr", "wbr", "x-image", "time", "label", "bdi"))
_TOKEN_OF = {"strong": "b", "em": "i", "dd": "li", "dt": "li", "h1": "h", "h2": "h", "h3": "h", "h4": "h",
             "h5": "h", "h6": "h", "big": "font", "tt": "font"}
#: tags whose class names are kept in the token (a class names the box)
_CLASSED = frozenset(("div", "span", "p", "table", "font", "li", "section", "aside"))

ZONE_BEFORE, ZONE_BODY, ZONE_AFTER = 0, 1, 2
_BR = "\x1e"  # a single <br> inside a paragraph
_WORD = re.compile(r"\w")


class Block(NamedTuple):
    """One paragraph-level text unit (see the module docstring)."""

    text: str
    lines: tuple  # its lines when a single <br> splits it, else ()
    sig: str  # structural signature
    chars: int  # characters of its word-bearing text
    link_chars: int  # ... inside links
    lead: bool  # opens with a bold lead-in
    after_image: bool  # comes right after an image box
    zone: int  # ZONE_BEFORE, ZONE_BODY or ZONE_AFTER
    key: str = ""  # for the learned template; "" when it has no text outside links
    index: int = 0  # its place in the zone
    joins: bool = False  # may be the rest of the block before it, cut by an empty block (see join_cut)

    @property
    def link_share(self) -> float:
        return self.link_chars / self.chars if self.chars else 0.0

    @property
    def words(self) -> int:
        return self.text.count(" ") + 1 if self.text else 0


_KEY = Block._fields.index("key")


def _token(el) -> str | None:
    tag = el.tag
    if tag in _SILENT:
        return None
    token = _TOKEN_OF.get(tag, tag)
    if not el.keys():
        return token
    if tag in _CLASSED:
        cls = el.get("class")
        if cls:
            token += "." + cls.split()[0]
    style = el.get("style")
    if (style and "center" in style) or el.get("align", "").lower() == "center":
        token += "@c"
    elif style and tag in ("span", "div", "p", "font"):
        token += "@s"
    return token


def _interrupted(closed, el) -> str | None:
    """How an empty block `el` may sit inside the paragraph before it: "start" when `el` starting closed the
    paragraph's text; "end" when the paragraph was a <p> right before `el` (closed by `el`, if its end tag was
    left out, or by its own end tag: the tree cannot tell); None."""
    closer, how = closed
    if how == "start":
        return "start" if closer is el else None
    if closer is el.getprevious() and closer.tag == "p" and not (closer.tail and closer.tail.strip()):
        return "end"
    return None


def join_cut(blocks: list, author: re.Pattern | None = None) -> list:
    """On a page whose story paragraphs are <p>s, a plain block of text outside any <p> right after an empty
    block that followed a plain <p> (an ad's <div> closed that <p> in mid-paragraph; the parser cannot know
    the <p> was left open) is the rest of that paragraph: joined to it."""
    if not any(b.joins for b in blocks):
        return blocks
    in_p = sum(b.chars for b in blocks if b.sig == "p")
    if in_p * 2 <= sum(b.chars for b in blocks):
        return blocks  # paragraphs between <br><br>: text outside a <p> is the next one
    out = []
    for b in blocks:
        prev = out[-1] if out else None
        if b.joins and b.sig == "" and not b.link_chars and prev is not None and prev.sig == "p" \
                and not prev.link_chars and not prev.lines:
            text = prev.text + " " + b.text
            out[-1] = prev._replace(text=text, chars=prev.chars + b.chars,
                                    key=block_key(text, author) if prev.key else "")
        else:
            out.append(b._replace(joins=False) if b.joins else b)
    return [b._replace(index=i) if b.index != i else b for i, b in enumerate(out)]


def _signature(elements) -> str:
    """The structural signature of the elements that hold a block's text (see the module docstring)."""
    # the commonest cases: text between <br>s, a paragraph of the fragment itself
    if len(elements) < 2:
        return (_token(elements[0]) or "") if elements else ""
    return "/".join([t for t in map(_token, elements) if t])


def segment(frag, zone: int = ZONE_BODY, author: re.Pattern | None = None, limit: int = 0) -> list[Block]:
    """The blocks of `frag` in page order (see the module docstring), each with its key (made from its text
    outside links, `author` masked); with `limit`, at most that many."""
    out: list[list] = []  # the blocks' fields, in Block's order; in the key's place the text it is made from
    path: list = []  # the open elements below `frag`
    buf: list[str] = []  # text of the open paragraph, _BR for a single <br>
    plain: list[str] = []  # its text outside links, for the key
    first = None  # the open elements at the paragraph's first text
    common = low = 0  # how many of `first` hold all its text so far; the lowest depth since the last text
    chars = links = 0
    lead = -1  # depth of the bold element holding the first words, -1: none
    after_lead = br = img = False
    linked = 0  # open <a> elements
    word = _WORD.search
    block_tags = BLOCK_TAGS
    # what closed the last block ((element, "end" | "start"), None after a <br><br>) and that block's
    # containers: an empty block element right after it (an ad's <div> that closed an unclosed <p>
    # mid-sentence) does not end the paragraph
    last = (None, None)
    joins = False  # the next block may continue the last one (join_cut)

    def flush(ending=None):
        """End the open paragraph; `ending`: (element, "end" | "start"), the block element whose end or start
        closed it, None for a <br><br>."""
        nonlocal first, chars, links, lead, after_lead, br, img, last, joins
        if first is not None:
            raw = "".join(buf)
            if _BR in raw:
                lines = tuple(x for x in (" ".join(x.split()) for x in raw.split(_BR)) if x)
                text = " ".join(lines)
                if len(lines) < 2:
                    lines = ()
            else:
                text = " ".join(raw.split())
                lines = ()
            if text:
                # a bold lead-in: the first words are bold, the bold is not the whole block, text follows it
                # a line mostly of links is dropped whatever the template says: nothing to learn from it
                source = (text if not links else " ".join(plain)) if plain and links * 2 < chars else ""
                held = first[:common]
                out.append([text, lines, _signature(held), chars, links, lead >= common and after_lead, img, zone,
                            source, len(out), joins])
                last = (ending, held)
                img = joins = False
            else:
                last = (None, None)
        buf.clear()
        plain.clear()
        first = None
        chars = links = 0
        lead = -1
        after_lead = br = False

    def add(text: str) -> None:
        nonlocal first, common, low, chars, links, lead, after_lead, br
        if br and not text.isspace():
            buf.append(_BR)
            br = False
        if word(text) is None:
            buf.append(text)
            return
        depth = len(path)
        if first is None:
            first = path[:]
            common = depth
            lead = depth - 1 if depth and path[-1].tag in ("b", "strong") else -1
        else:
            # the text shares with the paragraph's first text the elements above the lowest point the
            # walk reached since the last text
            if low > depth:
                low = depth
            if low < common:
                common = low
            if lead >= 0 and low <= lead:
                after_lead = True
        low = depth
        n = len(text.strip())
        chars += n
        if linked:
            links += n
        else:
            plain.append(text)
        buf.append(text)

    if frag.text:
        add(frag.text)
    push, pop = path.append, path.pop
    # the walk, without recursion: `children` runs over the children of the innermost open element (frag's at
    # first), `opened` holds the iterators over the children of the open elements around it. An element with
    # children is opened and walked into, and ends when its children run out; an element without children
    # (most of them: <br>s, story paragraphs, links) starts and ends in one step. Comments and processing
    # instructions (the cleaning strips them before) are passed over, tails and all.
    opened: list = []
    children = iter(frag)
    while True:
        el = next(children, None)
        if el is None:  # the innermost open element ends
            if not opened:
                break  # frag's own end
            children = opened.pop()
            el = pop()
            tag = el.tag
        else:
            tag = el.tag
            if tag == "br":
                if first is not None:
                    if br:
                        flush()
                    else:
                        br = True
            elif tag in block_tags and tag != IMAGE_MARK and not len(el):
                # a block without children (most story paragraphs): its text is the block
                if first is not None or buf:
                    flush((el, "start"))
                text = el.text
                if text and not text.isspace() and word(text) is not None:
                    text = " ".join(text.split())
                    n = len(text)
                    push(el)
                    out.append([text, (), _signature(path), n, n if linked else 0, False, img, zone,
                                "" if linked else text, len(out), joins])
                    last = ((el, "end"), path[:])
                    pop()
                    img = joins = False
            else:
                if tag in block_tags:
                    if first is not None or buf:
                        flush((el, "start"))
                    if tag == IMAGE_MARK:
                        img = True
                elif tag == "a":
                    linked += 1
                elif tag.__class__ is not str and tag is not etree.Entity:
                    continue  # a comment or a processing instruction
                push(el)
                text = el.text
                if text and tag.__class__ is str:
                    if text.isspace():
                        if first is not None:
                            buf.append(text)
                    else:
                        add(text)
                if len(el):
                    opened.append(children)
                    children = iter(el)
                    continue
                pop()
        # the end of `el`
        text = el.tail
        if tag in block_tags:
            if first is not None or buf:
                flush((el, "end"))
            if limit and len(out) >= limit:
                break
            if text and not len(el) and tag not in _SEPARATORS and not (el.text and el.text.strip()) \
                    and out and last[0] is not None and word(text) is not None:
                how = _interrupted(last[0], el)
                if how == "start":
                    # an empty block started in the middle of a paragraph's text: one paragraph
                    prev = Block._make(out.pop())
                    first, common, low = last[1], len(last[1]), len(last[1])
                    buf[:] = [prev.text, " "]
                    plain[:] = [prev.text] if not prev.link_chars else []
                    chars, links, img = prev.chars, prev.link_chars, prev.after_image
                    last = (None, None)
                elif how == "end":
                    joins = True  # after an unclosed <p>, or a closed one: join_cut() decides
        elif tag != "br":
            if tag == "a":
                linked -= 1
            if first is not None and len(path) < low:
                low = len(path)
        if text:
            if text.isspace():
                if first is not None:
                    buf.append(text)
            else:
                add(text)
    flush()
    # the keys of all blocks at once: one pass over the page's text instead of one per block
    for fields, key in zip(out, block_keys([fields[_KEY] for fields in out], author)):
        fields[_KEY] = key
    return list(map(Block._make, out))


def outside_lines(frag, author: re.Pattern | None = None) -> list[tuple[str, str]]:
    """(raw text, key) of the lines of text in `frag`, outside links and scripts: what the template learns from
    the content around the story region (its lines are compared with the story region's blocks). Cheaper
    than segment(): the tree is flattened in C; a <br> or a block element ends a line. `frag` is changed."""
    etree.strip_elements(frag, "script", "style", "noscript", "select", "a", etree.Comment,
                         etree.ProcessingInstruction, with_tail=False)
    for el in frag.iter(*_LINE_ENDS):
        tail = el.tail
        if not tail:
            el.tail = "\n"
        elif tail[0] != "\n":  # a tail that starts a line in the source needs no mark
            el.tail = "\n" + tail
        if el.text:
            el.text = "\n" + el.text
    text = etree.tostring(frag, method="text", encoding=str)
    lines = [line for line in text.split("\n") if line and not line.isspace()]
    # stripped: the key treats any white space as a space, but it is cut KEY_CHARS + 40 characters in
    keys = block_keys([line.strip() for line in lines], author)
    return [(line, key) for line, key in zip(lines, keys) if key]


_LINE_ENDS = tuple(BLOCK_TAGS | {"br"})
#: empty blocks that do separate paragraphs
_SEPARATORS = frozenset(("hr", IMAGE_MARK, "table", "br"))
word = _WORD.search


# --- keys ------------------------------------------------------------------------------------------
#: ASCII bytes: digits to 0, letters kept (lower case), NUL (between the texts of a batch) kept, everything
#: else to a space
_KEY_TABLE = bytes(
    c if (97 <= c <= 122) else 48 if 48 <= c <= 57 else 0 if c == 0 else 32 for c in range(256))
_SEP = "\x00"  # between the texts of a batch of keys
_ZEROS = re.compile(rb"00+")
_SPACES = re.compile(rb"  +")
#: the month names (whole words) a key with a number writes as "m" ("sepember" too, as sept?(?:ember)? did)
_MONTHS = frozenset((
    "jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june", "jul", "july",
    "aug", "august", "sep", "sept", "sepember", "september", "oct", "october", "nov", "november", "dec", "december",
))
#: keys are cut here: long enough to tell two paragraphs apart, short enough to keep the template small
KEY_CHARS = 160


def block_key(text: str, author: re.Pattern | None = None) -> str:
    """The text as the template compares it: lower case, ASCII letters only (accents and typographic signs
    dropped), runs of digits as one 0, month names as "m" when it has a number, the page's author as "a",
    each run of other characters one space, at most KEY_CHARS characters."""
    return block_keys([text], author)[0]


def block_keys(texts: list[str], author: re.Pattern | None = None) -> list[str]:
    """block_key() of each of `texts`, in order, made in one batch: the texts are joined with NULs, each step
    runs once over all of them (none of them reaches across a NUL), and the result is split at the NULs."""
    if not texts:
        return []
    joined = _SEP.join([text[: KEY_CHARS + 40] for text in texts])
    if joined.count(_SEP) != len(texts) - 1:  # a NUL in a text (lxml allows none): a space for its key
        joined = _SEP.join([text[: KEY_CHARS + 40].replace(_SEP, " ") for text in texts])
    low = joined.lower()
    if author is not None:
        low = author.sub("a", low)
    raw = low.encode("ascii", "ignore").translate(_KEY_TABLE)
    if b"00" in raw:
        raw = _ZEROS.sub(b"0", raw)
    keys = _SPACES.sub(b" ", raw).decode("ascii").split(_SEP)
    return [_dated(key) if "0" in key else key.strip()[:KEY_CHARS] for key in keys]


def _dated(key: str) -> str:
    """A key with a number (a date or a count, perhaps with a month name), its month names as "m", cut; `key`
    has single spaces between its words (most have no month name: 85% on the replica)."""
    words = key.split()
    if _MONTHS.isdisjoint(words):
        return key.strip()[:KEY_CHARS]
    return " ".join(["m" if w in _MONTHS else w for w in words])[:KEY_CHARS]


def author_pattern(author: str | None) -> re.Pattern | None:
    """The byline author's full name and surname as a pattern (masked in keys: a bio box names its author)."""
    if not author:
        return None
    words = [w for w in re.findall(r"\w+", author.lower()) if len(w) > 2]
    if not words:
        return None
    # \bword\b for each word, longest first, written so that the pattern opens with the words' letters:
    # the regex engine then jumps to where one of them starts instead of trying every position (3 times
    # faster); the look-behind checks that the word starts at a word boundary
    words = [re.escape(w) for w in sorted(set(words), key=len, reverse=True)]
    return re.compile("(?:" + "|".join(rf"{w}(?<=\b{w})" for w in words) + r")\b")
