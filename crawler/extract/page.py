"""A page as an lxml tree, and what the extraction reads off any tree: text, classes, meta tags, JSON-LD.

`parse(html)` gives the tree (NotAnArticle for an empty or binary page); the other functions are
the small tree helpers the site rules, the fallback and the cleaning share.
"""

from __future__ import annotations

import json
import re
from html import escape as html_escape

import lxml.etree as etree

from crawler.extract.article import NotAnArticle


def classes(el) -> set[str]:
    return set((el.get("class") or "").split())


def text_of(el, br: str = " ") -> str:
    """Text content of an element, whitespace runs collapsed; with br="\\n", each <br> starts a new line
    (and only a <br> does: line ends in the source are spaces). Empty lines are dropped."""
    parts: list[str] = []
    _collect_text(el, parts, top=True)
    text = "".join(parts)
    if br == "\n":
        lines = (" ".join(line.split()) for line in text.split(_BR_MARK))
        return "\n".join(line for line in lines if line)
    return " ".join(text.replace(_BR_MARK, br).split())


_BR_MARK = "\x1e"


def _collect_text(el, parts: list, top: bool = False) -> None:
    if isinstance(el.tag, str):
        if el.tag == "br":
            parts.append(_BR_MARK)
        elif el.text and el.tag not in ("script", "style"):
            parts.append(el.text)
        for child in el:
            _collect_text(child, parts)
    if not top and el.tail:
        parts.append(el.tail)


def inner_html(el) -> str:
    """The HTML inside an element (its text and children), without the element's own tag."""
    head = html_escape(el.text, quote=False) if el.text else ""
    return head + "".join(tostring(child) for child in el)


# --- parsing -------------------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse(html: str):
    """The page as an lxml tree; NotAnArticle("empty-page" / "binary") when there is nothing to parse."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    if not isinstance(html, str) or not html.strip():
        raise NotAnArticle("empty-page")
    sample = html[:4096]
    junk = len(_CONTROL.findall(sample)) + sample.count("\ufffd")
    if junk > 0.05 * len(sample):
        raise NotAnArticle("binary", f"{junk} control characters in the first {len(sample)}")
    if junk:
        html = _CONTROL.sub(" ", html)
    try:
        # plain lxml elements (no lxml.html element classes): the fastest tree lxml builds
        root = etree.HTML(html)
    except ValueError:  # a str with an XML encoding declaration
        root = etree.HTML(html.encode("utf-8"), etree.HTMLParser(encoding="utf-8"))
    except etree.ParserError as exc:
        raise NotAnArticle("empty-page", str(exc)) from None
    if root is None:
        raise NotAnArticle("empty-page")
    return root


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
    """og:* and article:* meta properties, meta names, <title>, canonical link and JSON-LD articles."""
    og: dict = {}
    for meta in root.iter("meta"):
        key = meta.get("property") or meta.get("name")
        value = meta.get("content")
        if key and value is not None and key.lower() not in og:
            og[key.lower()] = value.strip()
    title = root.find(".//title")
    if title is not None:
        og.setdefault("html:title", text_of(title))
    for link in root.iter("link"):
        if (link.get("rel") or "").lower() == "canonical" and link.get("href"):
            og.setdefault("canonical", link.get("href").strip())
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
