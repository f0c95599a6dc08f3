"""A page as an lxml tree, and what the extraction reads off any tree: text, classes, meta tags, JSON-LD.

`parse(html)` gives the tree (NotAnArticle for an empty or binary page); the other functions are
the small tree helpers the site rules, the fallback and the cleaning share.

Deep markup. libxml2's HTML parser stops at 256 levels of nesting unless told otherwise, and
the network's old table pages reach that: every unclosed `<font>` or `<p><font>` is one more
level, so an article with ~250 of them used to lose its text (and was dropped as "no-body").
`parse` uses `huge_tree`, which lifts the bound to MAX_DEPTH (2048, libxml2's own hard limit).
A page deeper still (100,000 nested `<div>`s) is parsed again with its runs of nested empty
tags collapsed into one, then with its inline formatting tags (`<font>`, `<b>`, `<span>`...)
taken out; one of the two keeps nearly every real page. Only a page past MAX_DEPTH after both
raises PageTooDeep, which the extraction stage counts and logs as such, never as "not an
article". The helpers below walk trees without recursion, so a tree of MAX_DEPTH levels costs
time linear in its size and never hits Python's recursion limit.
"""

from __future__ import annotations

import json
import re
from html import escape as html_escape

import lxml.etree as etree

from crawler.extract.article import NotAnArticle, PageTooDeep

#: The deepest nesting the parser builds (libxml2's limit with XML_PARSE_HUGE / lxml's huge_tree).
MAX_DEPTH = 2048


def classes(el) -> set[str]:
    return set((el.get("class") or "").split())


def has_class(el, name: str) -> bool:
    """True when `name` is one of the element's class names (classes(el) without building the set)."""
    value = el.get("class")
    return value is not None and name in value.split()


def has_any_class(el, names: set | frozenset) -> bool:
    """True when one of the element's class names is in `names` (classes(el) & names, without building the set)."""
    value = el.get("class")
    return value is not None and not names.isdisjoint(value.split())


def text_of(el, br: str = " ") -> str:
    """Text content of an element, whitespace runs collapsed; with br="\\n", each <br> starts a new line
    (and only a <br> does: line ends in the source are spaces). Empty lines are dropped."""
    if not len(el) and isinstance(el.tag, str):  # no children: its own text (most calls)
        if el.tag in ("script", "style") or not el.text:
            return ""
        return " ".join(el.text.split())
    parts: list[str] = []
    _collect_text(el, parts)
    text = "".join(parts)
    if br == "\n":
        lines = (" ".join(line.split()) for line in text.split(_BR_MARK))
        return "\n".join(line for line in lines if line)
    return " ".join(text.replace(_BR_MARK, br).split())


_BR_MARK = "\x1e"


def _collect_text(el, parts: list) -> None:
    """The text of `el` and its descendants (not its own tail), <br> as _BR_MARK; iterative."""
    if not isinstance(el.tag, str):
        return
    for event, node in etree.iterwalk(el, events=("start", "end")):
        if event == "start":
            tag = node.tag
            if tag == "br":
                parts.append(_BR_MARK)
            elif node.text and isinstance(tag, str) and tag not in ("script", "style"):
                parts.append(node.text)
        elif node is not el and node.tail:
            parts.append(node.tail)


_STRING = etree.XPath("string()")


def short_text(el, limit: int = 100) -> str:
    """The element's text, whitespace-normalised and lower-cased, when it is at most about `limit`
    characters long, else "": what a heading is compared with (read in C: a cheap test). An element
    without children holds only its own text: that is read without the XPath call (most headings)."""
    text = _STRING(el) if len(el) else el.text or ""
    if len(text) > 2 * limit:
        return ""
    return " ".join(text.split()).lower()


def inner_html(el) -> str:
    """The HTML inside an element (its text and children), without the element's own tag."""
    head = html_escape(el.text, quote=False) if el.text else ""
    return head + "".join(tostring(child) for child in el)


# --- parsing -------------------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0b, 0x0c, *range(0x0e, 0x20), 0x7f])


def _control_count(text: str) -> int:
    """How many characters of `text` _CONTROL matches (C0 controls other than tab, LF and CR, and DEL).

    Counted on the UTF-8 bytes: these characters are one byte each there, a byte no other character's
    encoding holds, and deleting them with bytes.translate runs in C (the regular expression took
    10-17 us on a page's first 4 KB, this about 3)."""
    data = text.encode("utf-8", "surrogatepass")
    return len(data) - len(data.translate(None, _CONTROL_BYTES))


def parse(html: str):
    """The page as an lxml tree; NotAnArticle("empty-page" / "binary") when there is nothing to parse."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    if not isinstance(html, str) or not html or html.isspace():
        raise NotAnArticle("empty-page")
    sample = html[:4096]
    junk = _control_count(sample) + sample.count("\ufffd")
    if junk > 0.05 * len(sample):
        raise NotAnArticle("binary", f"{junk} control characters in the first {len(sample)}")
    if junk:
        html = _CONTROL.sub(" ", html)
    root = _parse(html)
    if root is _TOO_DEEP:
        # nesting past MAX_DEPTH: collapse runs of nested empty tags, then drop inline formatting tags
        for simplify in (_collapse_empty_runs, _drop_inline_tags):
            html = simplify(html)
            root = _parse(html)
            if root is not _TOO_DEEP:
                break
        else:
            raise PageTooDeep(MAX_DEPTH, "even with nested empty tags collapsed and inline tags removed")
    if root is None:
        raise NotAnArticle("empty-page")
    return root


_TOO_DEEP = object()
#: plain lxml elements (no lxml.html element classes): the fastest tree lxml builds; huge_tree lifts
#: the depth limit from 256 to MAX_DEPTH and the size limits on text nodes
_PARSER = etree.HTMLParser(huge_tree=True)
_PARSER_UTF8 = etree.HTMLParser(huge_tree=True, encoding="utf-8")


def _parse(html: str):
    """The tree of `html`, None when there is none, _TOO_DEEP when the parser stopped at MAX_DEPTH.

    libxml2 is given the page as UTF-8 bytes with that encoding stated: the form it reads fastest (about
    5% sooner than a str, which it converts first) and the same tree (a charset the page declares is not
    obeyed either way). A str with no UTF-8 form (a lone surrogate) is given as it is."""
    try:
        data, parser = html.encode("utf-8"), _PARSER_UTF8
    except UnicodeEncodeError:
        data, parser = html, _PARSER
    try:
        root = etree.HTML(data, parser)
    except ValueError:  # a str with an XML encoding declaration
        parser = _PARSER_UTF8
        root = etree.HTML(html.encode("utf-8"), parser)
    except etree.ParserError as exc:
        raise NotAnArticle("empty-page", str(exc)) from None
    last = parser.error_log.last_error
    if last is not None and last.type_name == "ERR_RESOURCE_LIMIT":
        return _TOO_DEEP
    return root


#: eight or more opening tags in a row with nothing but white space between them
_EMPTY_RUN = re.compile(r"(?:<([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>\s*){8,}")
#: inline formatting tags (opening and closing): what an unclosed-<font> page nests
_INLINE_TAG = re.compile(r"</?(?:font|b|i|u|em|strong|small|big|span|sup|sub|tt|s|strike|nobr|abbr|cite|q)\b[^<>]*>",
                         re.I)


def _collapse_empty_runs(html: str) -> str:
    """Each run of eight or more opening tags with no text between them becomes its first tag: the
    structure of the run is lost, its text (there is none) is not."""
    return _EMPTY_RUN.sub(lambda m: m.group(0)[: m.group(0).index(">") + 1], html)


def _drop_inline_tags(html: str) -> str:
    """The page without its inline formatting tags: their text stays, in the blocks around it."""
    return _INLINE_TAG.sub("", html)


def fragment(el):
    """The content of `el` (its text and children, moved) under a new <div> with no parent: the body
    fragment the cleaning works on, cut loose from the page around it."""
    div = etree.Element("div")
    div.text = el.text
    div.extend(list(el))
    return div


def tostring(el, with_tail: bool = True) -> str:
    return etree.tostring(el, encoding="unicode", method="html", with_tail=with_tail)


def drop_tree(el) -> None:
    """Remove an element with its content, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def metadata(root) -> dict:
    """og:* and article:* meta properties and meta names (the first of each), then the first <title> as
    "html:title" and the first canonical link as "canonical" (unless a meta tag had those names).

    One walk over the tree finds the three tags (each further walk cost as much again)."""
    og: dict = {}
    title = canonical = None
    for el in root.iter("meta", "title", "link"):
        tag = el.tag
        if tag == "meta":
            key = el.get("property") or el.get("name")
            value = el.get("content")
            if key and value is not None and key.lower() not in og:
                og[key.lower()] = value.strip()
        elif tag == "title":
            if title is None:
                title = el
        elif canonical is None and (el.get("rel") or "").lower() == "canonical" and el.get("href"):
            canonical = el.get("href").strip()
    if title is not None:
        og.setdefault("html:title", text_of(title))
    if canonical is not None:
        og.setdefault("canonical", canonical)
    return og


_ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "blogposting", "analysisnewsarticle"}


def json_ld_article(root) -> dict | None:
    """The first JSON-LD object typed as an article (NewsArticle, Article...), or None."""
    for script in root.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        stack = [data]
        while stack:
            obj = stack.pop()
            if isinstance(obj, list):
                stack.extend(obj)
            elif isinstance(obj, dict):
                types = obj.get("@type")
                types = types if isinstance(types, list) else [types]
                if any(isinstance(t, str) and t.lower() in _ARTICLE_TYPES for t in types):
                    return obj
                if "@graph" in obj:
                    stack.append(obj["@graph"])
    return None


def normalise_space(text: str | None) -> str:
    """Runs of whitespace (CR, LF, tabs, no-break spaces) -> one space, stripped."""
    return " ".join(text.split()) if text else ""
