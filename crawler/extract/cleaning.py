"""Article cleaning: the raw parts from crawler/extract/regions.py in, the typed Article out.

`clean(raw, url)` reads the dateline's parts, removes every kind of clutter the site rules name
(ads and their <center> wrappers, scripts, sponsor banners, spacer images, the ADVERTISEMENT
label, the reader-comments line, the donation appeal, the newsletter box, related links,
cross-network headline blocks, the copyright notice, footer, navigation), turns unclosed <p>,
closed <p> and <br><br> text into paragraphs, and takes the story's images with their captions
out of the text. Body: paragraphs joined by one blank line, entities decoded, whitespace
normalised, no empty paragraph.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from crawler.extract.article import Article
from crawler.extract.dateline import normalise_author, parse_dateline
from crawler.extract.page import classes, drop_tree, normalise_space, text_of
from crawler.extract.rules import RULES, CompiledRules, SiteRules, compile_rules

#: elements that start and end a paragraph
BLOCK_TAGS = frozenset((
    "p", "div", "table", "tbody", "thead", "tr", "td", "th", "li", "ul", "ol", "dl", "dt", "dd",
    "h1", "h2", "h3", "h4", "h5", "h6", "center", "blockquote", "hr", "section", "article", "main",
    "figure", "figcaption", "pre", "address", "caption", "body", "html",
))
#: a short "by Name" line, or a staff byline, standing alone above the story
_BYLINE = re.compile(r"(?:by\s+[^.!?:;\d]{2,80}|(?:the\s+)?staff\s+(?:writers?|reporters?))", re.I)
_WORD = re.compile(r"\w")
_PARA = object()  # paragraph boundary
_BR = object()  # a <br>; two in a row (whitespace between) end a paragraph


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


def take_images(frag, url: str, cr: CompiledRules) -> list[dict]:
    """Remove every <img> from the fragment; return the story's images ({"url", "caption"}) in page order."""
    images = []
    used: set = set()
    for img in list(frag.iter("img")):
        if img.getparent() is None:
            continue
        src = (img.get("src") or img.get("data-src") or "").strip()
        if not src or src.startswith("data:") or cr.non_image.search(src):
            _drop(_wrapper(img, frag))
            continue
        caption_el = _caption_for(img, cr.rules.caption_class, used)
        caption = normalise_space(text_of(caption_el)) if caption_el is not None else ""
        images.append({"url": urljoin(url, src), "caption": caption or None})
        if caption_el is not None:
            used.add(caption_el)
        _drop(img)
    for caption_el in used:  # the image tables left empty make no paragraph
        _drop(caption_el)
    return images


# --- clutter -------------------------------------------------------------------------------------
def _drop(el) -> None:
    """Remove an element and its content, keeping the text after it."""
    drop_tree(el)


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


def remove_clutter(frag, cr: CompiledRules) -> None:
    """Drop clutter elements in place: by tag, by class, <center> ad wrappers, link lists, comments."""
    doomed = []
    for el in frag.iter():
        if el is frag:
            continue
        if not isinstance(el.tag, str):  # comments, processing instructions
            doomed.append(el)
        elif (el.tag in cr.rules.end_text_tags or cr.rules.block_title_class in classes(el)) \
                and text_of(el).lower() in cr.link_list_titles:
            doomed.extend(_link_list(el, frag))
        elif el.tag in cr.clutter_tags or classes(el) & cr.clutter_classes:
            doomed.append(el)
        elif el.tag in cr.rules.ad_wrapper_tags and _is_ad_wrapper(el, cr):
            doomed.append(el)
    for el in doomed:
        drop_tree(el)


# --- paragraphs ------------------------------------------------------------------------------------
def _tokens(el, out: list, linked: bool = False) -> None:
    """Paragraph boundaries, <br>s and (text, inside-a-link) pairs of a tree, in document order."""
    tag = el.tag
    if not isinstance(tag, str):
        return
    if tag == "br":
        out.append(_BR)
        return
    block = tag in BLOCK_TAGS
    linked = linked or tag == "a"
    if block:
        out.append(_PARA)
    if el.text:
        out.append((el.text, linked))
    for child in el:
        _tokens(child, out, linked)
        if child.tail:
            out.append((child.tail, linked))
    if block:
        out.append(_PARA)


def paragraphs(frag) -> list[str]:
    """Paragraph texts of a fragment: block elements and <br><br> separate them; whitespace normalised.
    A paragraph made only of link text (a navigation line) is left out."""
    tokens: list = []
    _tokens(frag, tokens)
    out: list[str] = []
    buf: list[str] = []
    state = {"br": False, "plain": False, "links": False}

    def flush():
        text = normalise_space("".join(buf))
        if text and (state["plain"] or not state["links"]):
            out.append(text)
        buf.clear()
        state.update(br=False, plain=False, links=False)

    for tok in tokens:
        if tok is _PARA:
            flush()
        elif tok is _BR:
            if state["br"]:
                flush()
            else:
                state["br"] = True
        else:
            text, linked = tok
            if text.strip():
                if state["br"]:
                    buf.append(" ")
                    state["br"] = False
                if linked:
                    state["links"] = True
                elif _WORD.search(text):  # separators such as " | " do not make a line text
                    state["plain"] = True
            buf.append(text)
    flush()
    return out


# --- entry point ---------------------------------------------------------------------------------
def clean(raw: dict, url: str, rules: SiteRules = RULES) -> Article:
    """The Article from extract()'s raw parts: title, published, author, location, agency, body, images
    ([{"url", "caption"}]), rights (the wire agency's notice, whitespace-normalised, or None) and the
    extraction method. The raw parts' body fragment is cleaned in place."""
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
    body_paragraphs: list[str] = []
    frag = raw.get("body")
    if frag is not None:
        images = take_images(frag, url, cr)
        remove_clutter(frag, cr)
        captions = {i["caption"] for i in images if i["caption"]}
        # a fallback extraction may keep the dateline in the text
        dateline_lines = set(filter(None, (raw.get("dateline") or "").split("\n")))
        captions |= dateline_lines | {" ".join(dateline_lines)}
        keywords = rules.clutter_keywords
        for para in paragraphs(frag):
            if para in captions:
                continue
            if not body_paragraphs and _BYLINE.fullmatch(para):  # a byline line above the story
                fields["author"] = fields["author"] or normalise_author(para)
                continue
            low = para.lower()
            if len(para) <= 2 * rules.clutter_max_chars and any(k in low for k in keywords):
                if len(para) <= rules.clutter_max_chars and cr.clutter_text.fullmatch(para):
                    continue
                if cr.rights_text.fullmatch(para):
                    rights = rights or para
                    continue
            body_paragraphs.append(para)
    return Article(
        title=title or None,
        published=fields["published"],
        author=fields["author"],
        location=fields["location"],
        agency=fields["agency"],
        body="\n\n".join(body_paragraphs),
        images=images,
        rights=rights or None,
        extraction=raw["extraction"],
    )
