"""Article cleaning: the raw parts from crawler/extract/regions.py in, the typed Article out, each removal with its reason.

Two steps, so that the step that needs the whole crawl runs where the crawl is:

* `read(raw, url)` (pure, per page: an extraction worker runs it) reads the dateline's parts,
  takes the story's images out with their captions (a caption is the text of the image's own
  box; a line after the box is a credit, not a caption), removes what the site rules name by tag
  or class (scripts, ads, forms, navigation...: a prior), and cuts the story region into Blocks
  (crawler/extract/blocks.py) and the content after it into lines. It returns a PageReading: plain data.
* `judge(reading, template)` decides, block by block, what is story, using structural signals
  first and the site's learned template (crawler/extract/boilerplate.py) where structure cannot
  tell, splits off the further stories a page carries below its main one, and returns the
  Article with every removed block and its reason (`Cleaned.removed`).

The signals (their names are the stats keys' `{signal}` part, `cleaning/removed/{signal}`):

* `tag`, `class`: an element of a clutter tag or class the site rules list (the prior);
* `phrase`: a wording the site rules list (the prior);
* `links`: a line made mostly of link text (navigation, share bars, headline lists);
* `markup`: a block in a markup of its own rather than the page's paragraph style: a box
  (<table>, <div>), small print (<small>, <font>), italics, a centred line, a bold or classed
  line. Inside the story (between two story paragraphs) a long, linked-free sentence in such
  markup is kept (a quoted passage), unless the template has seen it before;
* `position`: before the story's first paragraph or after its last one, a line that is not a
  sentence (dates, counts, labels) or that carries a link;
* `credit`: a short line that is not a sentence, right after an image box;
* `author-bio`: after the story, a block naming the byline's author;
* `template`: a block the learned template has seen out of place, or on enough of the site's
  pages for where it sits and how story-like it is (boilerplate.py: RATE_*);
* `rights`: the wire agency's notice (a copyright line naming the page's agency): moved to `rights`;
* `reader`: a short line that calls on the reader (second person, the site's "we", an imperative) and
  names nothing of the story, wherever it stands, even on one page only (crawler/extract/address.py).

The template also removes, wherever it stands, a block that recurs across agencies' pages
(boilerplate.Evidence.spread), unless it is a stock closing sentence of the stories.

Further stories: after the main story, a headline on a line of its own followed by
"<dateline> - <first paragraph>" starts a further story (SITE.md); each becomes one
`related_stories` entry `{title, location, agency, published, body}`, its paragraphs judged like
the main story's. Body: paragraphs joined by one blank line, entities decoded, whitespace
normalised, no empty paragraph.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from urllib.parse import urljoin

from crawler.extract.article import Article
from crawler.extract.blocks import (
    IMAGE_MARK, ZONE_BODY, Block, author_pattern, join_cut, outside_lines, segment,
)
from crawler.extract.address import MAX_WORDS, could_address, proper_names, quoted, reader_address, story_names
from crawler.extract.boilerplate import (
    NO_EVIDENCE, RATE_INSIDE, RATE_SUSPICIOUS, RATE_TAIL, SPREAD_AGENCIES, SPREAD_PAGES,
    SiteTemplate,
)
from crawler.extract.dateline import normalise_author, parse_dateline, split_lead_dateline
from crawler.extract.page import classes, drop_tree, normalise_space, short_text, text_of
from crawler.extract.rules import RULES, CompiledRules, SiteRules, compile_rules

import lxml.etree as etree

#: a short "by Name" line, or a staff byline, standing alone above the story
_BYLINE = re.compile(r"(?:by\s+[^.!?:;\d]{2,80}|(?:the\s+)?staff\s+(?:writers?|reporters?))", re.I)
#: closing quotes and brackets after a sentence's end
_CLOSERS = "\"'\u201d\u2019\u00bb)]"
#: the legal words of a copyright notice (not a site's wording: the law's)
_LEGAL = re.compile(r"\u00a9|\(c\)\s*\d{4}|\bcopyright\b|\ball rights reserved\b", re.I)
#: what a lower-case text holds when _LEGAL can match it (a cheap gate)
_LEGAL_MARKS = ("\u00a9", "copyright", "rights reserved", "(c)")
#: a story's text, not a caption: a box holding one of these is a layout, not an image box
_STORY_CONTAINERS = ("p", "li", "blockquote", "h1", "h2", "h3", "h4", "table")

# the signals, as stats keys name them
TAG, CLASS, PHRASE, LINKS, MARKUP, POSITION, CREDIT, BIO, TEMPLATE, RIGHTS, READER = (
    "tag", "class", "phrase", "links", "markup", "position", "credit", "author-bio", "template", "rights", "reader")
SIGNALS = (TAG, CLASS, PHRASE, LINKS, MARKUP, POSITION, CREDIT, BIO, TEMPLATE, RIGHTS, READER)


# what `read` knows about a block without other pages (PageReading.flags, one int per block)
SENTENCE, COMPATIBLE, NOTICE, NAMES_AUTHOR, PHRASE_CLUTTER, PHRASE_RIGHTS = 1, 2, 4, 8, 16, 32
_ENDS = frozenset(".!?\u2026")
_DIGIT = re.compile(r"\d")


@dataclass(slots=True)
class Removal:
    """One block (or element) the cleaning took out of the body, and why."""

    signal: str  # one of SIGNALS
    reason: str  # in words, for `scrapy explain` and CLEANING_DEBUG
    text: str  # what was removed (whitespace-normalised)
    story: int = 0  # 0: the main story's region; k: the k-th further story's


@dataclass
class PageReading:
    """What `read` found on one page, for `judge` and the learned template (plain, picklable data)."""

    url: str
    site: str  # the template's site name: the host without "www."
    title: str | None
    published: str | None
    author: str | None
    location: str | None
    agency: str | None
    extraction: str
    images: list
    rights: str | None  # the notice's element's text (site rules' rights class), if any
    blocks: list  # Blocks of the story region, in page order
    outside: list  # keys of the lines after the story region (for the template)
    dominant: str  # the base signature of the page's story paragraphs
    skip: frozenset  # texts that are captions or dateline lines, not paragraphs
    prior: list = field(default_factory=list)  # Removals by the site rules' tags and classes
    flags: list = field(default_factory=list)  # per block: SENTENCE | COMPATIBLE | NOTICE | ...

    def observed_keys(self) -> dict[str, bool]:
        """{key: out of place} of the page's blocks, for SiteTemplate.observe."""
        keys: dict[str, bool] = {}
        for b, f in zip(self.blocks, self.flags):
            key = b.key
            if not key:
                continue
            if not f & COMPATIBLE or b.link_chars * 2 >= b.chars:
                keys[key] = True
            elif key not in keys:
                keys[key] = False
        for key in self.outside:
            keys[key] = True
        return keys

    def tails(self) -> dict[str, tuple[int, int]]:
        """{key: (how many plain sentences of its story follow it, their share of its story's other plain
        sentences in percent)} for the page's plain sentences (a further story starts at a paragraph that
        opens with its dateline), for SiteTemplate.observe."""
        tails: dict[str, tuple[int, int]] = {}
        run: list[str] = []

        def close(run: list[str]) -> None:
            n = len(run)
            for i, key in enumerate(run):
                after = n - 1 - i
                tails.setdefault(key, (after, (100 * after) // (n - 1) if n > 1 else 0))

        for b, f in zip(self.blocks, self.flags):
            text = b.text
            if run and " - " in text[:160] and (split_lead_dateline(text) or any(
                    split_lead_dateline(line) for line in b.lines[1:])):
                close(run)  # the story before ends here
                run = []
            if b.key and f & COMPATIBLE and f & SENTENCE and not b.link_chars and text.count(" ", 0, 60) >= 3:
                run.append(b.key)
        close(run)
        return tails


@dataclass(slots=True)
class Kept:
    """A block a signal looked at and kept as story text, and why (for `scrapy explain`)."""

    reason: str
    text: str
    story: int = 0  # 0: the main story; k: the k-th further story


@dataclass
class Cleaned:
    """judge()'s result: the article, what was removed from its text and why, and why the blocks that looked
    like clutter to a signal were kept."""

    article: Article
    removed: list  # Removals, in page order (the prior's first)
    kept: list = field(default_factory=list)  # Kept, in page order


def site_name(url: str) -> str:
    """The template's site of a URL: its host, lower case, without "www." and port."""
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0].lower()
    return host[4:] if host.startswith("www.") else host


# --- images --------------------------------------------------------------------------------------
def _caption_for(img, caption_class: str, used: set):
    """The caption element of a body image (not given to an earlier image): in the image's cell, figure or
    table (the site's image tables), else a caption element right after the image."""
    for anc in img.iterancestors():
        if anc.tag in ("td", "th", "figure", "table"):
            for el in anc.iter():
                if isinstance(el.tag, str) and el not in used \
                        and (caption_class in classes(el) or el.tag == "figcaption"):
                    return el
        if anc.tag in ("table", "figure", "p", "div", "body"):
            break
    for sib in img.itersiblings():
        if isinstance(sib.tag, str) and caption_class in classes(sib) and sib not in used:
            return sib
        if sib.tag != "br":
            break
    return None


def _image_box(img, frag):
    """The table, figure or div around an image that holds only it and its caption (an image box), or None
    (an image inside a story paragraph, or in a layout table that holds the story too)."""
    for anc in img.iterancestors():
        if anc is frag:
            return None
        tag = anc.tag
        if tag in ("p", "li", "blockquote", "center", "a", "font", "span", "td", "th", "tr", "tbody", "b", "i"):
            continue
        if tag not in ("table", "figure", "div"):
            return None
        images = 0
        for el in anc.iter():
            if el.tag == "img":
                images += 1
            elif el is not anc and el.tag in _STORY_CONTAINERS:
                return None
        if images != 1 or len(text_of(anc)) > 400:
            return None
        return anc
    return None


def _wrapper(el, stop):
    """The outermost <a>/<center> wrapping only `el` (a banner's link and centering), up to `stop`."""
    node = el
    while True:
        parent = node.getparent()
        if parent is None or parent is stop or parent.tag not in ("a", "center") or len(parent) != 1:
            return node
        if normalise_space(parent.text) or normalise_space(node.tail):
            return node
        node = parent


def _replace_with_mark(el) -> None:
    """Put the image marker where `el` was (its tail stays after the marker)."""
    mark = etree.Element(IMAGE_MARK)
    mark.tail = el.tail
    el.tail = None
    el.addprevious(mark)
    el.getparent().remove(el)


_IMAGE_HREF = re.compile(r"\.(?:jpe?g|png|gif|webp)(?:[?#].*)?$", re.I)


def _not_a_picture(img) -> bool:
    """An icon, a button or a tracking pixel rather than a picture of the story: declared at most 60 pixels
    wide and high, or inside a link that leads to a page rather than to a larger picture."""
    try:
        w, h = int(img.get("width") or 0), int(img.get("height") or 0)
    except ValueError:
        w = h = 0
    if 0 < w <= 60 and 0 < h <= 60:
        return True
    for anc in img.iterancestors("a"):
        href = (anc.get("href") or "").strip()
        return bool(href) and not _IMAGE_HREF.search(href)
    return False


def take_images(frag, url: str, cr: CompiledRules) -> list[dict]:
    """Remove every <img> from the fragment; return the story's images ({"url", "caption"}) in page order.
    An image box (a table, figure or div holding the image and its caption) is replaced by a marker, so
    that the line after it is known to follow an image."""
    images = []
    used: set = set()
    for img in list(frag.iter("img")):
        if img.getparent() is None:
            continue
        src = (img.get("src") or img.get("data-src") or "").strip()
        if not src or src.startswith("data:") or cr.non_image.search(src):
            drop_tree(_wrapper(img, frag))
            continue
        if _not_a_picture(img):
            drop_tree(img)
            continue
        caption_el = _caption_for(img, cr.rules.caption_class, used)
        box = _image_box(img, frag)
        if caption_el is not None:
            caption = normalise_space(text_of(caption_el))
        elif box is not None:
            drop_tree(img)
            caption = normalise_space(text_of(box))
        else:
            caption = ""
        images.append({"url": urljoin(url, src), "caption": caption or None})
        if box is not None and box.getparent() is not None:
            _replace_with_mark(box)
            continue
        if caption_el is not None:
            used.add(caption_el)
        drop_tree(img)
    for caption_el in used:  # the image tables left empty make no paragraph
        drop_tree(caption_el)
    return images


# --- clutter the site rules name (the prior) -----------------------------------------------------------
def _is_ad_wrapper(el, cr: CompiledRules) -> bool:
    for sub in el.iter():
        if not isinstance(sub.tag, str):
            continue
        if sub.tag in ("iframe", "ins", "script", "object", "embed") or classes(sub) & cr.clutter_classes:
            return True
        if sub.tag == "img" and cr.non_image.search(sub.get("src") or ""):
            return True
    return False


def _link_list(heading, frag) -> list:
    """A link-list heading ("Related Links", a cross-network block title) with the links under it:
    its whole paragraph when it opens one, else itself and the inline siblings up to the next block."""
    from crawler.extract.blocks import BLOCK_TAGS

    parent = heading.getparent()
    if parent is not None and parent is not frag and parent.tag == "p" and parent[0] is heading \
            and not normalise_space(parent.text):
        return [parent]
    out = [heading]
    for sib in heading.itersiblings():
        if isinstance(sib.tag, str) and sib.tag in BLOCK_TAGS:
            break
        out.append(sib)
    return out


#: elements without visible text
_INVISIBLE = frozenset(("script", "style"))


def remove_clutter(frag, cr: CompiledRules, removed: list | None = None) -> None:
    """Drop clutter elements in place: by tag, by class, <center> ad wrappers, link lists, comments. With
    `removed`, each one that held visible text is recorded there as a Removal (in page order)."""
    rules = cr.rules
    titles = cr.link_list_titles
    doomed: dict = {}
    for el in frag.iter(*rules.end_text_tags):  # a link-list heading ("Related Links", a network block title)
        if short_text(el) in titles:
            for x in _link_list(el, frag):
                doomed.setdefault(x, (CLASS, "a link-list heading the site rules name"))
    # scripts and styles hold no visible text: stripped at the end, in one call, never recorded
    invisible = _INVISIBLE & cr.clutter_tags
    for el in frag.iter(*(cr.clutter_tags - invisible)):
        doomed.setdefault(el, (TAG, f"<{el.tag}> element"))
    clutter_classes, block_class = cr.clutter_classes, rules.block_title_class
    for el in frag.iter(etree.Element):
        value = el.get("class")
        if not value or el is frag:
            continue
        cls = set(value.split())
        if block_class in cls and short_text(el) in titles:
            for x in _link_list(el, frag):
                doomed.setdefault(x, (CLASS, "a link-list heading the site rules name"))
        elif cls & clutter_classes:
            doomed.setdefault(el, (CLASS, f"class {' '.join(sorted(cls & clutter_classes))}"))
    for el in frag.iter(*rules.ad_wrapper_tags):
        if el not in doomed and _is_ad_wrapper(el, cr):
            doomed[el] = (TAG, f"<{el.tag}> around an ad")
    if removed is not None:
        found = []
        for el, why in doomed.items():
            if el.tag in _INVISIBLE or any(anc in doomed for anc in el.iterancestors()):
                continue  # no visible text, or inside one recorded already
            text = text_of(el)
            if text:
                found.append((el.sourceline or 0, Removal(why[0], why[1], text)))
        found.sort(key=lambda x: x[0])
        removed.extend(r for _, r in found)
    for el in doomed:
        drop_tree(el)
    etree.strip_elements(frag, *invisible, etree.Comment, etree.ProcessingInstruction, with_tail=False)


# --- reading a page ----------------------------------------------------------------------------------
def _base(sig: str) -> str:
    """A signature without its last plain <p>: a paragraph in <p> and one between <br><br> are alike."""
    if sig == "p":
        return ""
    return sig[:-2] if sig.endswith("/p") else sig


def dominant_style(blocks: list) -> str:
    """The base signature of the page's story paragraphs: "" (plain <p> or <br><br> paragraphs, the site's
    style) when the page has a plain, linked-free sentence of some length; else the markup that carries
    most of the text of its linked-free sentences (a story laid out in a table or a <font>)."""
    weight: dict[str, int] = {}
    for b in blocks:
        if b.chars >= 15 and b.link_chars * 5 < b.chars and _is_sentence(b.text):
            base = _base(b.sig)
            if base == "" and b.chars >= 60:
                return ""
            weight[base] = weight.get(base, 0) + b.chars
    if not weight:
        return ""
    return max(weight.items(), key=lambda kv: kv[1])[0]


def read(raw: dict, url: str, rules: SiteRules = RULES) -> PageReading:
    """A page's parts as blocks with their signals' inputs (see the module docstring). The raw parts'
    fragments are changed in place."""
    cr = compile_rules(rules)
    fields = parse_dateline(raw.get("dateline") or "")
    meta = raw.get("meta") or {}
    if not fields["published"]:
        fields["published"] = meta.get("published")
    if not fields["author"]:
        fields["author"] = normalise_author(meta.get("author"))
    og = raw.get("og") or {}
    title = normalise_space(raw.get("title")) or normalise_space(og.get("og:title")) \
        or normalise_space(og.get("html:title"))
    rights = normalise_space(text_of(raw["rights"])) if raw.get("rights") is not None else None
    images: list[dict] = []
    blocks: list[Block] = []
    prior: list[Removal] = []
    skip: set[str] = set()
    author = author_pattern(fields["author"])
    frag = raw.get("body")
    if frag is not None:
        images = take_images(frag, url, cr)
        remove_clutter(frag, cr, prior)
        blocks = join_cut(segment(frag, ZONE_BODY, author), author)
        skip = {i["caption"] for i in images if i["caption"]}
        # a fallback extraction may keep the dateline in the text
        dateline_lines = [line for line in (raw.get("dateline") or "").split("\n") if line]
        skip.update(dateline_lines)
        skip.add(" ".join(dateline_lines))  # the lines in their order: one line of the body
    # what the template learns from the content after the story region: its lines outside links
    # (headline lists change every day). The content before the dateline (the headline, navigation,
    # a breadcrumb) is not read: what stands there is links, and reading it cost 7% of a page's time.
    outside: list[str] = []
    if raw.get("after") is not None:
        lines = outside_lines(raw["after"], author)
        outside = [key for _, key in lines]
        if rights is None and fields["agency"]:
            # the agency's notice may stand after the story region, in no class the rules know
            rights = _rights_in(lines, fields["agency"], cr)
    dominant = dominant_style(blocks)
    return PageReading(
        url=url, site=site_name(url), title=title or None, published=fields["published"], author=fields["author"],
        location=fields["location"], agency=fields["agency"], extraction=raw["extraction"], images=images,
        rights=rights or None, blocks=blocks, outside=outside, dominant=dominant, skip=frozenset(skip), prior=prior,
        flags=block_flags(blocks, dominant, fields["agency"], fields["author"], cr))


def block_flags(blocks: list, dominant: str, agency: str | None, author: str | None, cr: CompiledRules) -> list:
    """What each block is, without other pages: a sentence, in the page's paragraph style, the agency's
    notice, naming the author, a wording the site rules list (as clutter, as the notice)."""
    rules = cr.rules
    clutter_text, rights_text = cr.clutter_text, cr.rights_text
    max_chars = rules.clutter_max_chars
    # the site rules' wordings each hold one of their keywords, a notice one of the legal marks: look for them
    # in the whole page at once, and test only the blocks that hold one
    lows = [b.text.lower() for b in blocks]
    worded = _holding(lows, rules.clutter_keywords)
    legal = _holding(lows, _LEGAL_MARKS) if agency else ()
    out = []
    for i, b in enumerate(blocks):
        text = b.text
        f = SENTENCE if text.rstrip(_CLOSERS)[-1:] in _ENDS else 0
        sig = b.sig
        if not sig or sig == "p" or _base(sig) in ("", dominant):
            f |= COMPATIBLE
        if author and author in text:
            f |= NAMES_AUTHOR
        n = len(text)
        if n <= 2 * max_chars and b.link_chars * 2 < b.chars:  # a line of links goes anyway
            if i in worded and f & COMPATIBLE:  # a block in a markup of its own goes anyway
                if n <= max_chars and clutter_text.fullmatch(text):
                    f |= PHRASE_CLUTTER
                elif rights_text.fullmatch(text):
                    f |= PHRASE_RIGHTS
            if i in legal and is_rights_notice(text, agency, lows[i]):
                f |= NOTICE
        out.append(f)
    return out


def _holding(texts: list[str], needles) -> set[int]:
    """The indices of the texts (none holding a newline) that hold one of the needles: one search per needle
    over all the texts joined, rather than one per needle and text."""
    page = "\n".join(texts)
    found: set[int] = set()
    starts = None
    for needle in needles:
        at = page.find(needle)
        if at < 0:
            continue
        if starts is None:
            starts, pos = [], 0
            for text in texts:
                starts.append(pos)
                pos += len(text) + 1
        while at >= 0:
            i = bisect_right(starts, at) - 1
            found.add(i)
            at = page.find(needle, starts[i + 1] if i + 1 < len(starts) else len(page))
    return found


# --- judging -----------------------------------------------------------------------------------------
def _is_sentence(text: str) -> bool:
    """Ends as a sentence does: . ! ? or an ellipsis, perhaps inside closing quotes or brackets."""
    return text.rstrip(_CLOSERS)[-1:] in (".", "!", "?", "\u2026")


_AGENCY_PATTERNS: dict[str, re.Pattern] = {}


def _names_agency(text: str, agency: str | None) -> bool:
    """The text names the agency: "AFP", or a name whose initials spell it ("Agence France-Presse")."""
    if not agency:
        return False
    pattern = _AGENCY_PATTERNS.get(agency)
    if pattern is None:
        words = [re.escape(agency)]
        letters = re.sub(r"[^A-Za-z]", "", agency)
        if agency.isupper() and 2 <= len(letters) <= 6:
            words.append(r"[\s-]+".join(f"{c}[\\w.'\u2019]*" for c in letters))
        pattern = _AGENCY_PATTERNS[agency] = re.compile(r"\b(?:" + "|".join(words) + r")\b")
    return pattern.search(text) is not None


def _rights_in(lines: list, agency: str, cr: CompiledRules) -> str | None:
    """The agency's notice among the lines after the story region, or None."""
    texts = [" ".join(raw.split()) for raw, _ in lines]
    lows = [text.lower() for text in texts]
    legal, worded = _holding(lows, _LEGAL_MARKS), _holding(lows, cr.rules.clutter_keywords)
    for i, text in enumerate(texts):
        if (i in legal and is_rights_notice(text, agency, lows[i])) or (i in worded and cr.rights_text.fullmatch(text)):
            return text
    return None


def is_rights_notice(text: str, agency: str | None, low: str | None = None) -> bool:
    """A copyright notice naming the page's agency (the agency's rights line, not a credit or the footer)."""
    if len(text) > 900 or not agency:
        return False
    low = text.lower() if low is None else low
    if not any(mark in low for mark in _LEGAL_MARKS):
        return False
    return _LEGAL.search(text) is not None and _names_agency(text, agency)


class _Judge:
    """One page's decisions (judge() below); kept as an object so the steps share their inputs."""

    def __init__(self, reading: PageReading, template: SiteTemplate | None, rules: SiteRules):
        self.r = reading
        self.template = template
        self.rules = rules
        self.cr = compile_rules(rules)
        self.removed: list[Removal] = list(reading.prior)
        self.rights = reading.rights
        self.flags = reading.flags  # by block index
        self.kept: list[Kept] = []
        self._names: dict | None = None  # story_names of the page, made when first asked

    def names(self) -> dict:
        if self._names is None:
            r = self.r
            self._names = story_names([r.title, r.location, r.agency, r.author] + [b.text for b in r.blocks])
        return self._names

    def run(self) -> Cleaned:
        r = self.r
        author = r.author
        blocks = []
        for b in r.blocks:
            if b.text in r.skip:
                continue
            if not blocks and _BYLINE.fullmatch(b.text):  # a byline line above the story
                author = author or normalise_author(b.text)
                continue
            blocks.append(b)
        stories = self._split_stories(blocks)
        bodies = []
        for k, (head, anchor, members) in enumerate(stories):
            bodies.append(self._story(k, members, anchor))
        main = bodies[0] if bodies else []
        if not main and stories[0][2]:
            # nothing of the main story is left: the weak signals were wrong about this page; keep what
            # only they removed
            weak = {id(x) for x in self.removed if x.signal in (MARKUP, POSITION, TEMPLATE) and x.story == 0}
            main = [x.text for x in self.removed if id(x) in weak]
            self.removed = [x for x in self.removed if id(x) not in weak]
        related = []
        for (head, anchor, members), body in zip(stories[1:], bodies[1:]):
            dateline, first = anchor
            parts = parse_dateline(dateline)
            related.append({"title": head, "location": parts["location"], "agency": parts["agency"],
                            "published": parts["published"], "body": "\n\n".join(body)})
        article = Article(title=r.title, published=r.published, author=author, location=r.location,
                          agency=r.agency, body="\n\n".join(main), images=r.images, rights=self.rights,
                          extraction=r.extraction, related_stories=related)
        return Cleaned(article, self.removed, self.kept)

    # --- further stories ----------------------------------------------------------------------
    def _split_stories(self, blocks: list) -> list:
        """[(headline, (dateline, first paragraph) or None, blocks)]: the main story first, then each
        further story, found by its "<dateline> - " first paragraph after a headline line."""
        stories = [(None, None, [])]
        seen_text = False
        for b in blocks:
            found = None  # (headline, (dateline, first paragraph))
            if seen_text and (b.link_chars * 2 < b.chars or not b.chars):  # (b.link_share < 0.5, in integers)
                for j in range(1, len(b.lines)):  # headline, one <br>, then the dateline paragraph
                    if split_lead_dateline(b.lines[j]) and _headline_like(" ".join(b.lines[:j])):
                        found = (" ".join(b.lines[:j]), split_lead_dateline(" ".join(b.lines[j:])))
                        break
                if found is None:  # the headline is the block before
                    lead = split_lead_dateline(b.text)
                    current = stories[-1][2]
                    if lead and current and _headline_like(current[-1].text) \
                            and not (len(stories) == 1 and len(current) == 1):
                        found = (current.pop().text, lead)
            if found is not None:
                head, (dateline, first) = found
                # the headline and dateline make the first paragraph unique: nothing to learn from its key
                first_block = Block(first, (), b.sig, b.chars, b.link_chars, False, False, b.zone, "", b.index)
                stories.append((head, (dateline, first), [first_block]))
                continue
            stories[-1][2].append(b)
            seen_text = True
        return stories

    # --- one story's paragraphs ---------------------------------------------------------------
    def _story(self, k: int, members: list, anchor) -> list[str]:
        flags_of = self.flags
        blocks = self.template.blocks if self.template is not None else None
        evidence = self.template.evidence if self.template is not None else None
        feats = []
        # the story's run: from its first to its last plain paragraph the template does not claim
        lo = hi = -1
        for i, b in enumerate(members):
            f = flags_of[b.index] if b.index < len(flags_of) else 0
            ev = NO_EVIDENCE
            if blocks is not None and b.key in blocks and b.link_chars * 2 < b.chars \
                    and (f & COMPATIBLE or (f & SENTENCE and not b.link_chars)):
                ev = evidence(b.key)  # only asked where the template can change the verdict
            suspicious = b.link_chars or b.lead or not f & SENTENCE
            address = None
            if f & COMPATIBLE and b.link_chars * 2 < b.chars and b.text.count(" ") < MAX_WORDS \
                    and could_address(b.text.lower()):
                address = reader_address(b.text, self.names)
            # template by repetition across agencies (asked of lines that name, quote and count nothing)
            spread = bool(ev.df) and ev.spread(story_like=not suspicious) \
                and self._nameless(b.text, not suspicious)
            feats.append((b, f, ev, suspicious, address, spread))
            if f & COMPATIBLE and not suspicious and not f & (NOTICE | NAMES_AUTHOR) \
                    and b.text.count(" ", 0, 60) >= 3 and not (address and address[0]) \
                    and not (ev.df and (ev.template(RATE_TAIL, story_like=True)
                                        or spread)):
                if lo < 0:
                    lo = i
                hi = i
        if lo < 0:
            lo, hi = len(feats), -1
        if anchor is not None and feats:
            lo = 0  # a further story starts with its dateline paragraph
        kept = []
        removed = self.removed
        for i, (b, f, ev, suspicious, address, spread) in enumerate(feats):
            if anchor is not None and i == 0:  # a further story's first paragraph: its dateline made it
                kept.append(b.text)
                continue
            why = self._verdict(b, f, ev, suspicious, lo < i < hi, i < lo or i > hi, address, spread)
            if why is None:
                kept.append(b.text)
                note = self._kept_reason(b.text, ev, suspicious, address) \
                    if address is not None or ev.df >= SPREAD_PAGES else None
                if note:
                    self.kept.append(Kept(note, b.text, k))
            else:
                removed.append(Removal(why[0], why[1], b.text, k))
        return kept

    @staticmethod
    def _nameless(text: str, sentence: bool = True) -> bool:
        """Neither a quotation nor naming anyone or anything, nor (a sentence) giving a figure: what repetition
        alone may take as template (a recurring sentence that names people and places, quotes someone or
        states a figure is reporting; a label's counts and times are the template's)."""
        if sentence and _DIGIT.search(text):
            return False
        return not quoted(text) and not proper_names(text)

    @staticmethod
    def _kept_reason(text: str, ev, suspicious, address) -> str | None:
        """Why a block that a signal looked at stays story text (None: no signal looked twice at it)."""
        notes = []
        if address is not None:
            notes.append(address[1])
        if ev.df >= SPREAD_PAGES:
            agencies = f"{ev.agencies} agenc{'y' if ev.agencies == 1 else 'ies'}"
            if ev.agencies < SPREAD_AGENCIES:
                notes.append(f"recurs on {ev.df} pages, from {agencies} only (one agency's or one story's line)")
            elif not suspicious and ev.stock_closing():
                notes.append(f"recurs on {ev.df} pages from {agencies}, {ev.tail / ev.df:.1f} sentences "
                             f"({round(ev.share / ev.df)}% of its story) before its story's end on average "
                             "(a stock closing sentence)")
            elif ev.missing:
                notes.append(f"recurs on {ev.df} pages, never on one agency's pages (those agencies' text)")
            elif quoted(text):
                notes.append(f"recurs on {ev.df} pages from {agencies}, but quotes someone (reporting)")
            elif proper_names(text):
                notes.append(f"recurs on {ev.df} pages from {agencies}, but names {proper_names(text)[0]} "
                             "(reporting)")
            elif not suspicious and _DIGIT.search(text):
                notes.append(f"recurs on {ev.df} pages from {agencies}, but states a figure (reporting)")
            else:
                notes.append(f"recurs on {ev.df} pages from {agencies}, on {round(100 * ev.rate)}% of its span "
                             "(too few to be the template's)")
        return "; ".join(notes) or None

    def _verdict(self, b: Block, f: int, ev, suspicious, inside: bool, outside: bool, address=None,
                 spread: bool = False):
        """None to keep the block, else (signal, reason)."""
        text = b.text
        if f & (PHRASE_CLUTTER | PHRASE_RIGHTS):  # the site rules' wordings (a prior)
            if f & PHRASE_CLUTTER:
                return PHRASE, "a clutter wording the site rules list"
            self.rights = self.rights or text
            return RIGHTS, "the agency's notice (a wording the site rules list)"
        compatible = f & COMPATIBLE
        if f & NOTICE and (not inside or not compatible):
            self.rights = self.rights or text
            return RIGHTS, f"a copyright notice naming {self.r.agency}"
        if b.link_chars * 2 >= b.chars:
            return LINKS, f"{round(100 * b.link_share)}% of its text is links"
        sentence = f & SENTENCE
        if b.after_image and not sentence and text.count(" ") < 12:
            return CREDIT, "a short line after an image (a credit, not a caption)"
        if not compatible:
            if inside and sentence and not b.link_chars and text.count(" ") >= 19:
                # a long sentence in a markup of its own, within the story: a quoted passage, unless the
                # template has seen it before
                if ev.df and (ev.template(RATE_SUSPICIOUS, story_like=False)
                              or (ev.spread(story_like=False) and self._nameless(text, False))):
                    return self._template_reason(ev)
                return None
            return MARKUP, f"markup <{b.sig}>, not the page's paragraph style"
        if address is not None and address[0]:
            return READER, address[1]
        if spread:
            return TEMPLATE, (f"recurs on {ev.df} of the site's pages from {ev.agencies} agencies "
                              f"({round(100 * ev.rate)}% of its span), wherever it stands")
        if ev.df:
            threshold = RATE_SUSPICIOUS if suspicious else RATE_INSIDE if inside else RATE_TAIL
            if ev.template(threshold, story_like=not suspicious):
                return self._template_reason(ev)
        if outside:
            if b.link_chars:
                return POSITION, "a line with a link, outside the story's paragraphs"
            if not sentence:
                return POSITION, "not a sentence, outside the story's paragraphs"
            if f & NAMES_AUTHOR:
                return BIO, f"names the author ({self.r.author}), after the story"
        return None

    @staticmethod
    def _template_reason(ev) -> tuple[str, str]:
        if ev.out >= 2:
            return TEMPLATE, f"seen out of the story's place on {ev.out} of the site's pages"
        return TEMPLATE, f"on {round(100 * ev.rate)}% of the site's pages since it first appeared ({ev.df} pages)"


def _headline_like(text: str) -> bool:
    """A further story's headline: a short line that is not a sentence ending in a full stop."""
    return 2 <= text.count(" ") + 1 <= 30 and not text.endswith(".") and split_lead_dateline(text) is None


def judge(reading: PageReading, template: SiteTemplate | None = None, rules: SiteRules = RULES) -> Cleaned:
    """The Article of a read page, and every removal with its reason (see the module docstring). `template`
    is the site's learned template (read only); None judges by structure and the site rules alone."""
    return _Judge(reading, template, rules).run()


def clean(raw: dict, url: str, rules: SiteRules = RULES, template: SiteTemplate | None = None) -> Article:
    """The Article from extract()'s raw parts: title, published, author, location, agency, body, images
    ([{"url", "caption"}]), rights (the wire agency's notice, whitespace-normalised, or None), the
    extraction method and the further stories. The raw parts' body fragment is cleaned in place."""
    return judge(read(raw, url, rules), template, rules).article
