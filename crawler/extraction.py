"""Article extraction: a page's HTML in, the raw parts of its article out (site rules, else a generic fallback).

`extract(html, url)` finds the headline, the dateline, the body region (clutter still inside), the
rights notice and the page's og:/JSON-LD metadata. Pages in the network's table template are read
with the site rules (`SiteRules`: markers, selectors, clutter class names and texts, all data, so a
sister site or a template variant is configuration). Pages without those markers (a redesign:
HTML5 <article>/<main>, JSON-LD NewsArticle, <time datetime>, og: tags) go to a generic extraction
(trafilatura for the main text) and are marked "fallback". Anything that is not an article raises
`NotAnArticle(reason)`; no other exception leaves `extract`.

crawler/cleaning.py turns the raw parts into the item's fields.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from html import escape as html_escape
from typing import Iterable

import lxml.etree as etree

from crawler.dateline import iso_date, normalise_author

logger = logging.getLogger(__name__)

SITE_RULES = "site-rules"
FALLBACK = "fallback"


class NotAnArticle(Exception):
    """The page holds no article; `reason` is a short slug (stats key part), e.g. "listing-page"."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail

    def __reduce__(self):  # raised in an extraction worker (crawler/pageworkers.py), re-raised here
        return type(self), (self.reason, self.detail)


@dataclass(frozen=True)
class SiteRules:
    """What the generic code needs to know about a template: markers, selectors and clutter, as data."""

    name: str = "space-media-network"
    #: comment just before the headline (text inside <!-- -->, compared stripped)
    start_comment: str = "body-2-incontainer.php"
    #: comments that end the article body
    end_comments: tuple[str, ...] = ("RELATED LINKS",)
    #: short headings that end the body when the end comment is missing ("Related Links")
    end_texts: tuple[str, ...] = ("Related Links",)
    end_text_tags: tuple[str, ...] = ("b", "strong", "h2", "h3", "h4", "span")
    headline_tag: str = "h1"
    dateline_class: str = "BHS"
    #: the wire agency's copyright notice
    rights_class: str = "COPY"
    #: title span of a cross-network headline block ("Space News from SpaceDaily.com" ...)
    block_title_class: str = "BL"
    #: image caption
    caption_class: str = "BDC"
    #: headline and dateline spans of listing pages (a page with several is a listing)
    listing_classes: tuple[str, ...] = ("HL", "BDT")
    #: elements removed with everything inside
    clutter_tags: tuple[str, ...] = ("script", "style", "noscript", "iframe", "ins", "form", "input", "button",
                                     "select", "textarea", "object", "embed", "nav", "header", "footer", "aside")
    #: class names of clutter: ads, the ADVERTISEMENT label, reader comments, donation appeal,
    #: newsletter box, navigation, footer, cross-network blocks, rights notice
    clutter_classes: tuple[str, ...] = ("adsbygoogle", "AD", "RC", "DON", "NL", "NAV", "NAVH", "FOOT", "BL",
                                        "COPY", "HL", "BDT", "byline", "share", "related", "newsletter")
    #: a paragraph whose whole text matches one of these (case-insensitive) is clutter: the ad label,
    #: the related-links heading, the reader-comments line, the donation appeal, the newsletter box,
    #: cross-network block titles, the network's footer
    clutter_texts: tuple[str, ...] = (
        r"advertisement|sponsored|related links?",
        r"(?:comment on this article|reader comments?|post a comment|leave a comment|join the discussion)\b.*",
        r"(?=.*\b(?:paypal|donat\w*)\b)(?=.*\b(?:spacewar(?:\.com)?|space media network|news network"
        r"|our (?:site|work|journalism|reporting))\b).*",
        r".*\bsubscribe free to our (?:daily )?newsletters?\b.*",
        r"space news from spacedaily\.com|24/7 (?:energy )?news coverage"
        r"|military space news, nuclear weapons, missile defense",
        r"the content herein, unless otherwise known to be public domain\b.*",
    )
    #: a paragraph is matched against clutter_texts and rights_texts only when it contains one of these
    #: (lower-case substrings; a cheap gate: every pattern above and below needs one of them)
    clutter_keywords: tuple[str, ...] = ("advertis", "sponsor", "related link", "comment", "discussion", "donat",
                                         "paypal", "subscribe", "newsletter", "news coverage", "spacedaily",
                                         "missile defense", "content herein", "copyright", "rights reserved")
    #: a paragraph matching one of these is a wire agency's copyright notice: it goes to `rights`
    rights_texts: tuple[str, ...] = (
        r"all rights reserved\. copyright (?:\d{4} )?agence france-presse\b.*",
        r"copyright \d{4} united press international\b.*",
        r"(?:\(c\)|\u00a9|copyright) \d{4} (?:the )?(?:associated press|reuters|agence france-presse|xinhua|sputnik)\b.*",
    )
    #: titles of the cross-network headline blocks (their first line); the body ends before one
    network_block_titles: tuple[str, ...] = (
        "Space News from SpaceDaily.com", "24/7 Energy News Coverage",
        "Military Space News, Nuclear Weapons, Missile Defense", "24/7 News Coverage",
    )
    #: images that are not pictures of the story: spacers, sponsor banners, logos, ad pixels
    non_image_patterns: tuple[str, ...] = (r"/(?:black|white|spacer|blank|pixel)\.(?:jpe?g|gif|png)$",
                                           r"/sponsors?/", r"logo", r"/ads?/", r"\bads\.", r"doubleclick",
                                           r"googlesyndication")
    #: paragraphs longer than this are story text, never matched against clutter_texts
    clutter_max_chars: int = 600
    #: a <center> (or small <table>) holding one of these is an ad wrapper, removed whole
    ad_wrapper_tags: tuple[str, ...] = ("center",)


RULES = SiteRules()


# --- helpers shared with crawler/cleaning.py ------------------------------------------------------
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


# --- site rules ------------------------------------------------------------------------------------
def _find_comment(root, texts: Iterable[str]):
    wanted = tuple(t.strip().lower() for t in texts)
    for node in root.iter(etree.Comment):
        if (node.text or "").strip().lower() in wanted:
            return node
    return None


def _ancestor(el, tag: str):
    for anc in el.iterancestors():
        if anc.tag == tag:
            return anc
    return None


def _is_listing(root, rules: SiteRules) -> bool:
    """Several headline/dateline spans of listing blocks: a section, archive or home page."""
    listed = 0
    for span in root.iter("span"):
        if classes(span) & set(rules.listing_classes):
            listed += 1
            if listed >= 4:
                return True
    return False


def _prune_before(start, cell) -> None:
    """Remove everything in `cell` that comes before `start` in document order, and `start` (not its tail)."""
    node = start
    while node is not cell and node is not None:
        parent = node.getparent()
        if parent is None:
            break
        for sib in list(node.itersiblings(preceding=True)):
            parent.remove(sib)
        parent.text = None
        node = parent
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


def _prune_after(end, cell) -> None:
    """Remove `end` and everything in `cell` that comes after it in document order."""
    node = end
    while node is not cell and node is not None:
        parent = node.getparent()
        if parent is None:
            break
        for sib in list(node.itersiblings()):
            parent.remove(sib)
        node = parent
    end.tail = None
    end.getparent().remove(end)


def _body_end(cell, dateline, rules: SiteRules):
    """The node the body ends at: the RELATED LINKS comment, else the first "Related Links" heading,
    cross-network block or rights notice after the dateline; None: the end of the content cell."""
    started = False
    block_titles = {t.lower() for t in rules.network_block_titles}
    end_comments = {t.strip().lower() for t in rules.end_comments}
    end_texts = {t.lower() for t in rules.end_texts}
    for el in cell.iter():
        if el is dateline:
            started = True
            continue
        if not started:
            continue
        if el.tag is etree.Comment:
            if (el.text or "").strip().lower() in end_comments:
                return el
            continue
        if not isinstance(el.tag, str):
            continue
        cls = classes(el)
        if rules.rights_class in cls:
            return el
        if el.tag in rules.end_text_tags or rules.block_title_class in cls:
            text = text_of(el).lower()
            if text in block_titles or text in end_texts:
                return el
    return None


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
        if rules.dateline_class in classes(span):
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
        if rules.rights_class in classes(el):
            rights = el
            break
    rights_html = tostring(rights, with_tail=False) if rights is not None else None
    title = text_of(headline) if headline is not None else ""
    dateline_text = text_of(dateline, br="\n")
    end = _body_end(cell, dateline, rules)
    if end is not None:
        _prune_after(end, cell)
    _prune_before(dateline, cell)
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
    body_html = inner_html(cell)
    return {"title": title, "dateline": dateline_text, "body_html": body_html, "rights_html": rights_html,
            "extraction": SITE_RULES}


def _has_story_text(el, rules: SiteRules) -> bool:
    """True when some text in `el` lies outside clutter elements (ads, labels, scripts...)."""
    clutter_tags, clutter_classes = set(rules.clutter_tags), set(rules.clutter_classes)
    stack = [el]
    while stack:
        node = stack.pop()
        if not isinstance(node.tag, str) or node.tag in clutter_tags or classes(node) & clutter_classes:
            if node is not el and (node.tail or "").strip():
                return True
            continue
        if (node.text or "").strip() or (node is not el and (node.tail or "").strip()):
            return True
        stack.extend(node)
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
    body_html = _main_text_html(html, rules)
    if not body_html:
        raise NotAnArticle("no-body")
    found = _find_dateline(scope if scope is not root else root.find("body") if root.find("body") is not None else root)
    dateline = text_of(found, br="\n") if found is not None else ""
    return {"title": " ".join(title.split()), "dateline": dateline, "body_html": body_html, "rights_html": None,
            "extraction": FALLBACK, "meta": {"published": published, "author": author}}


_DATELINE_TAGS = frozenset(("span", "div", "p", "td", "font", "b", "i", "em", "strong", "small", "header"))
_DATELINE_SHAPE = re.compile(r"\([^()]{1,40}\)\s*\S+\s+\d{1,2},?\s+\d{4}")


def _find_dateline(scope, limit: int = 0):
    """The first element whose text is a short dateline ("Place (SRC) Mon dd, yyyy", perhaps after a byline
    line), for pages whose dateline is not where the site rules expect it; None when there is none.
    With `limit`, only that many text-bearing elements are looked at (the top of a body)."""
    seen = 0
    for el in scope.iter(*_DATELINE_TAGS):
        text = text_of(el, br="\n")
        if not text:
            continue
        if len(text) <= 160 and _DATELINE_SHAPE.search(text) and iso_date(text):
            return el
        seen += 1
        if limit and seen >= limit:
            break
    return None


def _main_text_html(html: str, rules: SiteRules) -> str:
    """The main text of a page as an HTML fragment of paragraphs (trafilatura), headline removed."""
    try:
        import trafilatura

        result = trafilatura.extract(html, output_format="html", include_comments=False, include_tables=False,
                                     include_images=False, include_links=False, deduplicate=False)
    except Exception as exc:  # a generic extractor failing on a strange page is "no body"
        logger.debug("trafilatura failed: %r", exc)
        return ""
    if not result or not result.strip():
        return ""
    try:
        frag = etree.HTML(result)
    except (etree.ParserError, ValueError):
        return ""
    body = frag.find("body") if frag is not None else None
    if body is None:
        return ""
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
        return ""
    return inner_html(body)


# --- entry point ---------------------------------------------------------------------------------------
def extract(html: str, url: str, rules: SiteRules = RULES) -> dict:
    """The raw parts of the article on a page:

    {"title", "dateline" (text, <br> as newline), "body_html" (fragment, clutter inside), "rights_html"
    (or None), "og" (meta properties), "extraction" ("site-rules" | "fallback"), "meta" (fallback only:
    published/author read from JSON-LD, <time>, article: tags)}.

    Raises NotAnArticle(reason) for a listing, an empty or binary page, a page without headline or body.
    """
    try:
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
    except NotAnArticle:
        raise
    except Exception as exc:  # malformed input must never crash the crawl: it is simply not an article
        logger.debug("extraction failed on %s", url, exc_info=True)
        raise NotAnArticle("malformed", repr(exc)) from exc
