"""Where the article is on a page: its headline, dateline, body region and rights notice (site rules, else a generic fallback).

`extract(html, url)` finds the headline, the dateline, the body region (clutter still inside, as a
parsed fragment), the rights notice and the page's og:/JSON-LD metadata. Pages in the network's table template are read
with the site rules (`SiteRules`: markers, selectors, clutter class names and texts, all data, so a
sister site or a template variant is configuration). Pages without those markers (a redesign:
HTML5 <article>/<main>, JSON-LD NewsArticle, <time datetime>, og: tags) go to a generic extraction
(trafilatura for the main text) and are marked "fallback". Anything that is not an article raises
`NotAnArticle(reason)`.

crawler/extract/cleaning.py turns the raw parts into the Article (crawler/extract/extractor.py
joins the two).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

import lxml.etree as etree

from crawler.extract.article import FALLBACK, SITE_RULES, NotAnArticle
from crawler.extract.dateline import iso_date, normalise_author
from crawler.extract.page import (classes, drop_tree, fragment, has_any_class, has_class, json_ld_article, metadata,
                                  parse, short_text, text_of)
from crawler.extract.rules import RULES, SiteRules

logger = logging.getLogger(__name__)

# --- site rules ------------------------------------------------------------------------------------
def _find_comment(root, texts: Iterable[str]):
    wanted = tuple(t.strip().lower() for t in texts)
    for node in root.iter(etree.Comment):
        if (node.text or "").strip().lower() in wanted:
            return node
    return None


def _ancestor(el, tag: str):
    """The nearest ancestor of `el` with that tag, or None."""
    return next(el.iterancestors(tag), None)


def _is_listing(root, rules: SiteRules) -> bool:
    """Several headline/dateline spans of listing blocks: a section, archive or home page."""
    listed = 0
    listing_classes = set(rules.listing_classes)
    for span in root.iter("span"):
        if has_any_class(span, listing_classes):
            listed += 1
            if listed >= 4:
                return True
    return False


def _cut_before(start, cell):
    """Move everything in `cell` that comes before `start` in document order out of the cell, into a new
    parentless <div> (returned, in document order); `start` itself is removed (not its tail)."""
    levels = []  # innermost level first: (text before, preceding siblings)
    node = start
    while node is not cell and node is not None:
        parent = node.getparent()
        if parent is None:
            break
        levels.append((parent.text, list(node.itersiblings(preceding=True))[::-1]))
        parent.text = None
        node = parent
    out = etree.Element("div")
    last = None
    for text, siblings in reversed(levels):
        if text:
            if last is None:
                out.text = (out.text or "") + text
            else:
                last.tail = (last.tail or "") + text
        for sib in siblings:
            out.append(sib)  # moves it, with its tail
            last = sib
    parent = start.getparent()
    tail = start.tail
    idx = parent.index(start)
    parent.remove(start)
    if tail:
        if idx == 0:
            parent.text = (parent.text or "") + tail
        else:
            prev = parent[idx - 1]
            prev.tail = (prev.tail or "") + tail
    return out


def _cut_after(end, cell):
    """Move `end` and everything in `cell` that comes after it in document order out of the cell, into a
    new parentless <div> (returned, in document order; `end` itself is left out)."""
    out = etree.Element("div")
    out.text = end.tail
    node = end
    while node is not cell and node is not None:
        parent = node.getparent()
        if parent is None:
            break
        for sib in list(node.itersiblings()):
            out.append(sib)
        node = parent
    end.tail = None
    end.getparent().remove(end)
    return out


def _body_end(cell, dateline, rules: SiteRules):
    """The node the body ends at: the RELATED LINKS comment, else the first "Related Links" heading,
    cross-network block or rights notice after the dateline; None: the end of the content cell.

    One walk over the elements and comments of the cell (what else the tree holds cannot end the body),
    in document order; the part before the dateline is only stepped over. The class attribute is read
    once per element: the test most elements fail."""
    markers = _markers(rules)
    end_comments, end_tags, titles = markers.end_comments, markers.end_tags, markers.end_titles
    rights_class, block_class = rules.rights_class, rules.block_title_class
    comment = etree.Comment
    walk = cell.iter(etree.Element, comment)
    for el in walk:
        if el is dateline:
            break
    for el in walk:  # the same walk, from just after the dateline
        tag = el.tag
        if tag is comment:
            if (el.text or "").strip().lower() in end_comments:
                return el
            continue
        value = el.get("class")
        if value is None:
            if tag in end_tags and short_text(el) in titles:
                return el
            continue
        cls = value.split()
        if rights_class in cls:
            return el
        if (block_class in cls or tag in end_tags) and short_text(el) in titles:
            return el
    return None


@dataclass(frozen=True)
class _Markers:
    """The site rules' end-of-body and clutter markers as the sets the walks test against."""

    end_comments: frozenset  # stripped, lower-case
    end_tags: frozenset  # the tags of a "Related Links" heading
    end_titles: frozenset  # lower-case texts of the headings the body ends at: block titles and "Related Links"
    clutter_tags: frozenset
    clutter_classes: frozenset


@lru_cache(maxsize=16)
def _markers(rules: SiteRules) -> _Markers:
    """The sets of `rules` (built once per rules object)."""
    return _Markers(
        end_comments=frozenset(t.strip().lower() for t in rules.end_comments),
        end_tags=frozenset(rules.end_text_tags),
        end_titles=frozenset(t.lower() for t in rules.network_block_titles + rules.end_texts),
        clutter_tags=frozenset(rules.clutter_tags),
        clutter_classes=frozenset(rules.clutter_classes),
    )


def _site_rules(root, og: dict, rules: SiteRules) -> dict | None:
    """Raw parts by the site rules, or None when the page lacks the template's markers."""
    marker = _find_comment(root, (rules.start_comment,))
    headline = None
    if marker is not None:
        for el in marker.itersiblings():
            if el.tag == rules.headline_tag:
                headline = el
                break
            found = el.find(f".//{rules.headline_tag}") if isinstance(el.tag, str) else None
            if found is not None:
                headline = found
                break
    dateline = None
    for span in root.iter("span"):
        if has_class(span, rules.dateline_class):
            dateline = span
            break
    if dateline is None or (marker is None and headline is None):
        return None
    if headline is None:
        headline = next(iter(root.iter(rules.headline_tag)), None)
    cell = _ancestor(dateline, "td")
    if cell is None:
        cell = root.find("body") if root.find("body") is not None else root
    rights = None
    for el in cell.iter("span"):
        if has_class(el, rules.rights_class):
            rights = el
            break
    title = text_of(headline) if headline is not None else ""
    dateline_text = text_of(dateline, br="\n")
    end = _body_end(cell, dateline, rules)
    after = _cut_after(end, cell) if end is not None else None
    before = _cut_before(dateline, cell)
    if not iso_date(dateline_text):
        # the dateline element holds no date (a variant that puts the headline there): take the first
        # dateline-shaped text at the top of the body instead, and the element's text as the headline
        found = _find_dateline(cell, limit=8)
        if found is not None:
            title = title or " ".join(dateline_text.split())
            dateline_text = text_of(found, br="\n")
            drop_tree(found)
    if not _has_story_text(cell, rules):
        raise NotAnArticle("no-body")
    return {"title": title, "dateline": dateline_text, "body": fragment(cell), "rights": rights,
            "extraction": SITE_RULES, "before": before, "after": after}


def _has_story_text(el, rules: SiteRules) -> bool:
    """True when some text in `el` lies outside clutter elements (ads, labels, scripts...).

    Story text is the text of a non-clutter element whose ancestors up to `el` are not clutter either, or
    the tail of any element (clutter or not) inside such an element. The walk keeps one iterator over
    each open element's children, so it looks at children only as far as it needs (most bodies have
    text in their first few nodes)."""
    markers = _markers(rules)
    clutter_tags, clutter_classes = markers.clutter_tags, markers.clutter_classes

    def is_clutter(node) -> bool:
        tag = node.tag
        return not isinstance(tag, str) or tag in clutter_tags or has_any_class(node, clutter_classes)

    if is_clutter(el):
        return False
    if (el.text or "").strip():
        return True
    open_children = [iter(el)]
    while open_children:
        for node in open_children[-1]:
            if (node.tail or "").strip():
                return True
            if is_clutter(node):
                continue
            if (node.text or "").strip():
                return True
            open_children.append(iter(node))  # look inside it before its next sibling
            break
        else:
            open_children.pop()
    return False


# --- generic fallback --------------------------------------------------------------------------------
def _ld_author(ld: dict | None) -> str | None:
    if not ld:
        return None
    authors = ld.get("author")
    authors = authors if isinstance(authors, list) else [authors]
    names = []
    for a in authors:
        name = a.get("name") if isinstance(a, dict) else a
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return normalise_author(" and ".join(names)) if names else None


def _fallback(root, html: str, og: dict, rules: SiteRules) -> dict:
    ld = json_ld_article(root)
    article = next(iter(root.iter("article")), None)
    main = next(iter(root.iter("main")), None)
    og_type = og.get("og:type", "").lower()
    looks_like_article = bool(ld or article is not None or og_type == "article" or og.get("article:published_time"))
    if not looks_like_article and (og_type == "website" or _is_listing(root, rules)):
        raise NotAnArticle("listing-page")
    scope = article if article is not None else main if main is not None else root
    h1 = next(iter(scope.iter("h1")), None)
    if h1 is None:
        h1 = next(iter(root.iter("h1")), None)
    title = text_of(h1) if h1 is not None else ""
    title = title or (ld or {}).get("headline") or og.get("og:title") or og.get("html:title") or ""
    if not isinstance(title, str) or not title.strip():
        raise NotAnArticle("no-headline")
    time_el = next(iter(scope.iter("time")), None)
    published = None
    for candidate in ((ld or {}).get("datePublished"), og.get("article:published_time"),
                      time_el.get("datetime") if time_el is not None else None,
                      text_of(time_el) if time_el is not None else None, og.get("date"), og.get("pubdate")):
        if isinstance(candidate, str) and candidate.strip():
            published = iso_date(candidate.strip()[:10]) or iso_date(candidate)
            if published:
                break
    author = _ld_author(ld) or normalise_author(og.get("author") or og.get("article:author"))
    if author is None:
        for el in scope.iter():
            if isinstance(el.tag, str) and classes(el) & {"author", "byline-name"}:
                author = normalise_author(text_of(el))
                break
    body = _main_text(html, rules)
    if body is None:
        raise NotAnArticle("no-body")
    found = _find_dateline(scope if scope is not root else root.find("body") if root.find("body") is not None else root)
    dateline = text_of(found, br="\n") if found is not None else ""
    return {"title": " ".join(title.split()), "dateline": dateline, "body": body, "rights": None,
            "extraction": FALLBACK, "meta": {"published": published, "author": author}}


_DATELINE_TAGS = frozenset(("span", "div", "p", "td", "font", "b", "i", "em", "strong", "small", "header"))
_DATELINE_SHAPE = re.compile(r"\([^()]{1,40}\)\s*\S+\s+\d{1,2},?\s+\d{4}")


def _find_dateline(scope, limit: int = 0):
    """The first element whose text is a short dateline ("Place (SRC) Mon dd, yyyy", perhaps after a byline
    line), for pages whose dateline is not where the site rules expect it; None when there is none.
    With `limit`, only that many text-bearing elements are looked at (the top of a body); without, at
    most FIND_DATELINE_MAX (work per page stays bounded on a page nested thousands of levels deep)."""
    seen = 0
    limit = limit or FIND_DATELINE_MAX
    for el in scope.iter(*_DATELINE_TAGS):
        if not _short_text(el, 400):
            continue
        text = text_of(el, br="\n")
        if not text:
            continue
        if len(text) <= 160 and _DATELINE_SHAPE.search(text) and iso_date(text):
            return el
        seen += 1
        if seen >= limit:
            break
    return None


#: text-bearing elements the dateline search looks at, at most
FIND_DATELINE_MAX = 400


def _short_text(el, limit: int) -> bool:
    """True when `el` holds some text, and no more than `limit` characters of it (read no further)."""
    n = 0
    for piece in el.itertext():
        n += len(piece)
        if n > limit:
            return False
    return n > 0


def _main_text(html: str, rules: SiteRules):
    """The main text of a page as a fragment of paragraphs (trafilatura), headline removed; None when none."""
    try:
        import trafilatura

        result = trafilatura.extract(html, output_format="html", include_comments=False, include_tables=False,
                                     include_images=False, include_links=False, deduplicate=False)
    except Exception as exc:  # noqa: BLE001 - the generic extractor giving up on a strange page: no body
        logger.warning("The generic extractor failed on a page (%s: %s): no body", type(exc).__name__, exc)
        return None
    if not result or not result.strip():
        return None
    frag = etree.HTML(result)
    body = frag.find("body") if frag is not None else None
    if body is None:
        return None
    for h in list(body.iter("h1")):
        drop_tree(h)
    # the template's end markers still hold: the story stops before "Related Links" or a network block
    ends = tuple(t.lower() for t in rules.end_texts + rules.network_block_titles)
    for child in list(body):
        if text_of(child).lower().startswith(ends):
            for later in list(child.itersiblings()):
                body.remove(later)
            body.remove(child)
            break
    if not text_of(body):
        return None
    return fragment(body)


# --- entry point ---------------------------------------------------------------------------------------
def extract(html: str, url: str, rules: SiteRules = RULES) -> dict:
    """The raw parts of the article on a page:

    {"title", "dateline" (text, <br> as newline), "body" (the body region, clutter inside, a parsed
    fragment), "rights" (the notice's element, or None), "og" (meta properties), "extraction"
    ("site-rules" | "fallback"), "meta" (fallback only: published/author read from JSON-LD, <time>,
    article: tags), "before" and "after" (site rules only: what the content cell holds before the
    dateline and after the end of the body region, as parentless fragments; None when nothing)}.

    Raises NotAnArticle(reason) for a listing, an empty or binary page, a page without headline or body.
    """
    root = parse(html)
    og = metadata(root)
    raw = _site_rules(root, og, rules)
    if raw is None:
        if _is_listing(root, rules):
            raise NotAnArticle("listing-page")
        raw = _fallback(root, html, og, rules)
    if not raw["title"]:
        raw["title"] = og.get("og:title") or og.get("html:title") or ""
    if not raw["title"]:
        raise NotAnArticle("no-headline")
    raw["og"] = og
    return raw
