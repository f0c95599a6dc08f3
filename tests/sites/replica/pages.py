"""Rendering of the replica's pages in the site's old table template: path in, bytes out.

Pages look like tests/fixtures/samples/*: CRLF line ends, numeric entities for typographic
characters (or raw windows-1252 bytes on some pages), unclosed <p>, ads in the body, the
clutter after it. `Renderer.render(path)` returns a Page (status, type, bytes, framing hint)
or None for an unknown path; it caches a few hundred recent pages and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass
from email.utils import format_datetime
from functools import lru_cache
from html import escape

from tests.sites.replica.clutter import SITE_LINK_PREFIXES
from tests.sites.replica.content import (
    BASE_URL, DISALLOWED, SECTIONS, STATIC_PAGES, Article, RawPage, ReplicaSite, Section, slug,
)

CRLF = "\r\n"
TINY_GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
            b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
#: Size of the replica's JPEG images (tiny_jpeg): a replayed image that decodes to this size is the one archived.
JPEG_SIZE = (6, 4)
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}


def _segment(marker: int, data: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(data) + 2).to_bytes(2, "big") + data


@lru_cache(maxsize=512)
def tiny_jpeg(path: str) -> bytes:
    """A real baseline JPEG of JPEG_SIZE pixels, one grey level chosen by `path`, which it also names in a
    comment, so that every image URL has a payload of its own (as on the real site).

    One 8x8 block of one grey level v: its only non-zero DCT coefficient is DC = 8 * (v - 128); with
    v in 192..255 that value always needs 10 bits, so each Huffman table has a single one-bit code
    (DC: size category 10, AC: end of block)."""
    level = 192 + hashlib.sha1(path.encode()).digest()[0] % 64
    dc = 8 * (level - 128)  # 512..1016
    bits = "0" + format(dc, "010b") + "0"  # DC code, its 10 bits, the AC code for end-of-block
    bits += "1" * (-len(bits) % 8)  # pad with 1s to a byte
    scan = int(bits, 2).to_bytes(len(bits) // 8, "big")  # no 0xFF byte: no stuffing needed
    width, height = JPEG_SIZE
    return b"".join([
        b"\xff\xd8",
        _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        _segment(0xFE, f"replica image {path}".encode("ascii", "replace")),
        _segment(0xDB, b"\x00" + b"\x01" * 64),  # quantisation table 0: all ones
        _segment(0xC0, b"\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x01\x01\x11\x00"),
        _segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x0a"),  # DC table 0: one code, category 10
        _segment(0xC4, b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00"),  # AC table 0: one code, end of block
        _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
        scan,
        b"\xff\xd9",
    ])


def image_page(path: str) -> Page:
    """An image of the site or of the network's image host: a JPEG for .jpg, else the 1-pixel GIF."""
    ext = posixpath.splitext(path)[1].lower()
    if ext in (".jpg", ".jpeg"):
        return Page(200, "image/jpeg", tiny_jpeg(path), "asset")
    return Page(200, IMAGE_TYPES.get(ext, "image/gif"), TINY_GIF, "asset")


@dataclass(frozen=True)
class Page:
    status: int
    content_type: str
    body: bytes
    kind: str  # article, listing, feed, robots, static, asset, sister
    chunked: bool = False  # send with Transfer-Encoding: chunked
    article: Article | None = None
    last_modified: str | None = None  # HTTP date, for articles


def esc(text: str) -> str:
    return escape(text, quote=False)


def attr(text: str) -> str:
    return escape(text, quote=True)


def encode(text: str, charset: str) -> bytes:
    """ASCII pages carry every other character as a numeric entity; the others are raw bytes."""
    codec = {"ascii": "ascii", "windows-1252": "cp1252", "iso-8859-1": "cp1252", "utf-8": "utf-8"}[charset]
    return text.encode(codec, "xmlcharrefreplace")


def declared(charset: str) -> str:
    return "iso-8859-1" if charset == "ascii" else charset


def short_date(a: Article) -> str:
    return f"{a.when:%b %d, %Y}"


def dateline(a: Article) -> str:
    where = a.location if a.dateline_style == "plain" else f"{a.location}, {a.when:%b} {a.when.day}"
    text = f"{esc(where)} ({a.agency}) {short_date(a)}"
    return (f"by {esc(a.byline)}<br>{CRLF}{text}") if a.byline else text


def href(a: Article, variant: int, *, page_dir: str = "/") -> str:
    """The same article linked in the ways the site links it (tracking parameters, http, bare host,
    relative to `page_dir`, the directory of the page the link is on...)."""
    v = variant % 8
    if v == 0:
        return a.path
    if v == 1:
        return BASE_URL + a.path
    if v == 2:
        return f"{BASE_URL}{a.path}?utm_source=home&utm_medium=box"
    if v == 3:
        return f"http://spacewar.com{a.path}"
    if v == 4:
        return f"{a.path}#comments"
    if v == 5:
        return posixpath.relpath(a.path, page_dir)
    if v == 6:
        return f"https://spacewar.com{a.path}?ref=mostread"
    return f"http://www.spacewar.com{a.path}"


# --- the template ------------------------------------------------------------------------------
def head(title: str, *, og_type: str, og_url: str, charset: str = "iso-8859-1", description: str = "",
         extra: tuple[str, ...] = ()) -> list[str]:
    return [
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">', "<html>", "<head>",
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">',
        f"<title>{esc(title)}</title>",
        f'<meta name="description" content="{attr(description or title)}">',
        f'<meta property="og:title" content="{attr(title)}" />',
        f'<meta property="og:type" content="{og_type}" />',
        f'<meta property="og:url" content="{og_url}" />',
        *extra,
        '<meta property="og:site_name" content="SpaceWar.com" />',
        '<link rel="stylesheet" type="text/css" href="/css/spacewar.css">',
        '<link rel="alternate" type="application/rss+xml" title="SpaceWar" href="https://www.spacewar.com/spacewar.xml">',
        '<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?client=ca-pub-0000"></script>',
        "<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}</script>",
        "</head>",
        '<body bgcolor="#FFFFFF" leftmargin="0" topmargin="0" marginwidth="0" marginheight="0">',
        '<table width="100%" border="0" cellspacing="0" cellpadding="0"><tr>',
        '<td width="400"><a href="https://www.spacewar.com/"><img src="/images/spacewar-logo.gif" '
        'alt="SpaceWar.com - Your World At War" border="0" width="400" height="80"></a></td>',
        '<td align="right"><ins class="adsbygoogle" style="display:inline-block;width:728px;height:90px" '
        'data-ad-slot="1111"></ins><script>(adsbygoogle = window.adsbygoogle || []).push({});</script></td>',
        "</tr></table>",
        '<table width="100%" border="0" cellspacing="0" cellpadding="4"><tr>',
        '<td width="160" valign="top" bgcolor="#E8E8E8">',
        "<!--LEFT NAV-->",
        '<a href="https://www.spacewar.com/" class="NAV">Home</a><br>',
        *(f'<a href="{s.path}" class="NAV">{s.name}</a><br>' for s in SECTIONS),
        '<a href="/cgi-bin/search.cgi?q=" class="NAV">Search</a><br>',
        '<a href="/search/archive.html" class="NAV">Archive Search</a><br>',
        '<a href="https://www.spacewar.com/spacewar.xml" class="NAV">RSS</a><br>',
        '<br><span class="NAVH">Subscribe Free To Our Daily Newsletters</span><br>',
        '<form action="/cgi-bin/subscribe.cgi" method="post"><input name="email"><input type="submit" value="Go"></form>',
        "</td>",
        '<td valign="top">',
    ]


def tail() -> list[str]:
    return [
        "</td>",
        '<td width="300" valign="top"><center><iframe src="https://ads.spacemedianetwork.example/300x600.html" '
        'width="300" height="600" frameborder="0" scrolling="no"></iframe></center>',
        '<p><span class="BL">SPACEWAR RSS</span><br><a href="https://www.spacewar.com/spacewar.xml">Latest headlines</a></p>',
        "</td></tr></table>",
        "<!--FOOTER-->",
        '<p align="center"><span class="FOOT">The content herein, unless otherwise known to be public domain, are '
        "Copyright 1995-2025 - Space Media Network. All websites are published in Australia and are solely subject "
        "to Australian law and governed by Fair Use principals for news reporting and research purposes. Privacy "
        "Statement. All images and articles appearing on Space Media Network have been edited or digitally altered "
        "in some way.</span><br>",
        '<a href="/privacy.html">Privacy Statement</a> | <a href="/about.html">About Us</a> | '
        '<a href="/advertising.html">Advertise With Us</a> | <a href="/private/staff.html">Staff</a></p>',
        "</body>", "</html>", "",
    ]


AD_IFRAME = ('<center><iframe src="https://ads.spacemedianetwork.example/300x250.html?r={r}" width="300" '
             'height="250" frameborder="0" scrolling="no"></iframe></center>')
AD_LABEL = ('<center><span class="AD">ADVERTISEMENT</span><br><ins class="adsbygoogle" style="display:block" '
            'data-ad-slot="2222"></ins><script>(adsbygoogle = window.adsbygoogle || []).push({});</script></center>')
SPONSOR = ('<center><a href="https://www.spacewar.com/advertising.html"><img src="https://www.spacewar.com/sponsors/'
           'milsat-banner-{k}.jpg" width="468" height="60" border="0" alt="Sponsored"></a></center>')
SPACER = '<img src="https://www.spacewar.com/images/{c}.jpg" width="100%" height="6" border="0"><br>'
COMMENTS = ('<p><span class="RC"><a href="#comments">Comment on this article using your Disqus, Facebook, Google '
            "or Twitter login.</a></span>")
DONATION = ('<p><span class="DON"><b>Thanks for being here;</b> We need your help. The SpaceWar news network '
            "continues to grow but revenues have never been harder to maintain. Support SpaceWar.com with a "
            'one-off or monthly donation: <a href="https://www.paypal.com/donate?hosted_button_id=SMN000">'
            "Donate with PayPal</a> or credit card.</span>")
NEWSLETTER = ('<table class="NL" border="1" cellpadding="6"><tr><td><b>Subscribe Free To Our Daily Newsletters</b>'
              '<br><form action="/cgi-bin/subscribe.cgi" method="post"><input name="email"> '
              '<input type="submit" value="Subscribe"></form></td></tr></table>')
NETWORK_BLOCKS = (
    ("https://www.spacedaily.com/", "Space News from SpaceDaily.com",
     ("Lunar lander team reports first light", "Reusable booster flies its tenth mission",
      "Deep space probe wakes after long cruise")),
    ("https://www.energy-daily.com/", "24/7 Energy News Coverage",
     ("Grid operators test storage at scale", "Offshore wind auction draws record bids",
      "Small reactor design clears first review")),
    ("https://www.terradaily.com/", "24/7 News Coverage",
     ("Glacier survey finds faster melt", "Coastal cities plan for higher tides", "Drought hits river freight")),
)


def image_table(img, *, wide: bool = False) -> str:
    if wide:
        return (f'<table width="100%" border="0" cellpadding="4"><tr><td align="center"><img src="{attr(img.src)}" '
                f'width="600" height="400" border="0"><br><span class="BDC">{esc(img.caption)}</span></td></tr></table>')
    return (f'<table width="400" align="right" border="0" cellpadding="4"><tr><td><img src="{attr(img.src)}" '
            f'width="400" height="267" border="0"><br><span class="BDC">{esc(img.caption)}</span></td></tr></table>')


def wrap(text: str, width: int = 100) -> list[str]:
    """Hard-wrap a paragraph over several lines (some pages do; a reader sees one paragraph)."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return lines


def article_body(a: Article) -> list[str]:
    images = a.images()
    paras = a.paragraphs()
    out = []
    if images:
        out.append(image_table(images[0]))
    for k, text in enumerate(paras, start=1):
        if a.paragraph_style == "open":
            out += ["<p>", esc(text)]
        elif a.paragraph_style == "closed":
            out += ["<p>", esc(text) + "</p>"]
        else:
            lines = wrap(esc(text))
            lines[-1] += "<br><br>"
            out += lines
        if k == 2 and len(images) > 1:
            out.append(image_table(images[1], wide=True))
        if k == 1 and a.index % 5 == 2:
            out.append(SPACER.format(c="black" if a.index % 2 else "white"))
        if k == 3 and len(paras) > 4:
            out.append(AD_IFRAME.format(r=1000 + a.index))
        if k == 5 and len(paras) > 6 and a.index % 4 == 1:
            out.append(SPONSOR.format(k=a.index % 5 + 1))
        if k == 7 and len(paras) > 8:
            out.append(AD_LABEL)
    return out


def after_body(site: ReplicaSite, a: Article) -> list[str]:
    out = [
        "<!--RELATED LINKS-->",
        "<p><b>Related Links</b><br>",
        f'<a href="https://www.spacewar.com/{a.section.page}.html">{a.section.name} at SpaceWar.com</a><br>',
        f'<a href="https://www.spacedaily.com/reports/{slug(a.title)}_999.html">The same story at SpaceDaily.com</a><br>',
        '<a href="/search/archive.html?topic=' + a.section.topic + '">Search the archive</a><br>',
        '<p><center><span class="AD">ADVERTISEMENT</span><br><ins class="adsbygoogle" style="display:block" '
        'data-ad-slot="3333"></ins></center>',
        "<hr>",
    ]
    blocks = list(NETWORK_BLOCKS)
    for url, name, titles in blocks[:2]:
        out.append(f'<p><span class="BL"><a href="{url}">{name}</a></span><br>')
        out += [f'<a href="{url}reports/{slug(t)}_999.html">{esc(t)}</a><br>' for t in titles]
    out.append('<p><span class="BL"><a href="https://www.spacewar.com/">Military Space News, Nuclear Weapons, '
               "Missile Defense</a></span><br>")
    for k in (1, 2, 3):
        other = site.neighbour(a, k)
        link = href(other, a.index + k, page_dir=posixpath.dirname(a.path))
        out.append(f'<a href="{attr(link)}">{esc(other.title)}</a><br>')
    url, name, titles = blocks[2]
    out.append(f'<p><span class="BL"><a href="{url}">{name}</a></span><br>')
    out += [f'<a href="{url}reports/{slug(t)}_999.html">{esc(t)}</a><br>' for t in titles]
    if a.agency == "AFP":
        out.append(f'<p><span class="COPY">{esc(a.rights)}</span>')
    elif a.agency == "UPI":
        words = esc(a.rights).split(" ")
        out.append(f'<p><span class="COPY">{" ".join(words[:9])}{CRLF}  {" ".join(words[9:])}</span>')
    out += [COMMENTS, DONATION, NEWSLETTER]
    return out


def render_legacy_article(site: ReplicaSite, a: Article) -> bytes:
    if site.clutter is not None:
        return render_cluttered_article(site, a)
    images = a.images()
    extra = (f'<meta property="og:image" content="{images[0].url.replace("-lg.jpg", "-hg.jpg")}" />',) if images else ()
    lines = head(a.title, og_type="article", og_url=a.url, charset=declared(a.charset),
                 description=a.paragraphs()[0][:240], extra=extra)
    lines += ["<!--body-2-incontainer.php-->", f"<h1>{esc(a.title)}<br></h1>"]
    if a.paragraph_style == "br":
        lines.append(f'<span class="BHS">{dateline(a)}</span><br><br>')
    else:
        lines.append(f'<span class="BHS">{dateline(a)}</span>')
    lines += article_body(a)
    lines += after_body(site, a)
    lines += tail()
    return encode(CRLF.join(lines), a.charset)


# --- the cluttered replica (ReplicaSite(clutter_seed=N)): clutter.py plans, this renders -------------
def cluttered_image(img, markup: str, cls: str, *, wide: bool = False) -> str:
    """A story image with its caption, in one of the site's image markups (clutter.IMAGE_MARKUPS)."""
    w, h = (600, 400) if wide else (400, 267)
    pic = f'<img src="{attr(img.src)}" width="{w}" height="{h}" border="0">'
    cap = esc(img.caption)
    table = ('<table width="100%" border="0" cellpadding="4"><tr><td align="center">' if wide else
             '<table width="400" align="right" border="0" cellpadding="4"><tr><td>')
    if markup == "span-cls":
        return f'{table}{pic}<br><span class="{cls}">{cap}</span></td></tr></table>'
    if markup == "span-BDC":
        return f'{table}{pic}<br><span class="BDC">{cap}</span></td></tr></table>'
    if markup == "font":
        return f'{table}{pic}<br><font size="1" face="Arial">{cap}</font></td></tr></table>'
    if markup == "i":
        return f"{table}{pic}<br><i>{cap}</i></td></tr></table>"
    if markup == "small":
        return f"{table}{pic}<br><small>{cap}</small></td></tr></table>"
    if markup == "tr":
        return f'{table}{pic}</td></tr><tr><td bgcolor="#EEEEEE"><font size="1">{cap}</font></td></tr></table>'
    if markup == "above":
        return f'{table}<font size="1"><b>{cap}</b></font><br>{pic}</td></tr></table>'
    if markup == "div":
        return (f'<div style="float:right;width:{w}px;margin:0 0 8px 8px">{pic}<div class="{cls}">{cap}</div>'
                "</div>")
    if markup == "figure":
        return f"<figure>{pic}<figcaption>{cap}</figcaption></figure>"
    raise ValueError(markup)


def _para_lines(text_html: str, style: str) -> list[str]:
    if style == "open":
        return ["<p>", text_html]
    if style == "closed":
        return ["<p>", text_html + "</p>"]
    lines = wrap(text_html)
    lines[-1] += "<br><br>"
    return lines


def _para_with_inside(text: str, inside: list[str], style: str) -> list[str]:
    """A story paragraph with markup that shows no text inside it (an ad, a script), at a sentence boundary."""
    cut = text.find(". ", len(text) // 3)
    first, rest = (text[: cut + 1], text[cut + 2:]) if cut > 0 else (text, "")
    middle = " ".join(inside)
    if style == "br":
        lines = wrap(esc(first))
        lines[-1] += " " + middle
        if rest:
            lines += wrap(esc(rest))
        lines[-1] += "<br><br>"
        return lines
    html = f"{esc(first)} {middle} {esc(rest)}" if rest else f"{esc(first)} {middle}"
    return ["<p>", html + ("</p>" if style == "closed" else "")]


def related_story_lines(story, markup: str, cls: str, style: str, between: dict | None = None) -> list[str]:
    """A further story below the main one: its headline on a line of its own, then "<dateline> - <first
    paragraph>", then its other paragraphs (SITE.md "Pages with more than one story"); `between`: {j: html
    lines} put after its paragraph j (the in-story variant's clutter inside further stories)."""
    title = esc(story.title)
    first = f"{esc(story.dateline())} - {esc(story.paragraphs[0])}"
    head = {"b": f"<b>{title}</b>", "plain": title, "font-b": f'<font size="3"><b>{title}</b></font>',
            "span": f'<span class="{cls}"><b>{title}</b></span>', "strong": f"<strong>{title}</strong>",
            "b-br": f"<b>{title}</b>"}.get(markup)
    out: list[str] = []
    if markup == "h3":
        out.append(f"<h3>{title}</h3>")
        out += _para_lines(first, style)
    elif markup == "b-br":  # headline, one <br>, then the dateline paragraph in the same block
        if style == "br":
            out += [head + "<br>", first + "<br><br>"]
        else:
            out += ["<p>" + head + "<br>", first + ("</p>" if style == "closed" else "")]
    else:
        out += _para_lines(head, style)
        out += _para_lines(first, style)
    for j, text in enumerate(story.paragraphs[1:], start=2):
        out += (between or {}).get(j - 1, [])
        out += _para_lines(esc(text), style)
    return out


def render_cluttered_article(site: ReplicaSite, a: Article) -> bytes:
    plan = site.clutter.plan(site, a)
    images = a.images()
    paras = a.paragraphs()
    style = a.paragraph_style
    extra = (f'<meta property="og:image" content="{images[0].url.replace("-lg.jpg", "-hg.jpg")}" />',) if images else ()
    lines = head(a.title, og_type="article", og_url=a.url, charset=declared(a.charset),
                 description=paras[0][:240], extra=extra)
    lines += [p.html for p in plan.at("before_headline")]
    lines += ["<!--body-2-incontainer.php-->", f"<h1>{esc(a.title)}<br></h1>"]
    lines.append(f'<span class="BHS">{dateline(a)}</span>' + ("<br><br>" if style == "br" else ""))
    lines += [p.html for p in plan.at("top")]
    if images:
        lines.append(cluttered_image(images[0], plan.image_markup, plan.image_class))
        lines += [p.html for p in plan.at("after_image")]
    for k, text in enumerate(paras, start=1):
        inside = [p.html for p in plan.at("inside", k)]
        lines += _para_with_inside(text, inside, style) if inside else _para_lines(esc(text), style)
        if k == 2 and len(images) > 1:
            lines.append(cluttered_image(images[1], plan.image_markup, plan.image_class, wide=True))
        if k < len(paras):
            lines += [p.html for p in plan.at("between", k)]
    lines += [p.html for p in plan.at("after_story")]
    for s, story in enumerate(a.related or (), start=1):
        between = {p.after - 1000 * s: [p.html] for p in plan.pieces
                   if p.slot == "story_between" and p.after // 1000 == s}
        lines += related_story_lines(story, plan.related_markup, plan.related_class, style, between)
    lines += [p.html for p in plan.at("end")]
    if plan.marker:
        lines.append("<!--RELATED LINKS-->")
    lines += [p.html for p in plan.at("after_marker")]
    lines.append("<hr>")
    lines += [p.html for p in plan.at("after_related")]
    lines += [p.html for p in plan.at("after_blocks")]
    t = tail()
    start = t.index("<!--FOOTER-->")
    lines += t[: start + 1] + [p.html for p in plan.at("tail")] + ["</body>", "</html>", ""]
    return encode(CRLF.join(lines), a.charset)


def render_html5_article(site: ReplicaSite, a: Article) -> bytes:
    """The one article in a modern layout: <article>, <time datetime>, JSON-LD, og: tags; no legacy markers."""
    iso = a.when.strftime("%Y-%m-%dT%H:%M:%SZ")
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": a.title,
          "datePublished": iso, "dateModified": iso, "mainEntityOfPage": a.url,
          "author": {"@type": "Person", "name": a.byline},
          "publisher": {"@type": "Organization", "name": "SpaceWar.com"}}
    nav = "".join(f'<li><a href="{s.path}">{s.name}</a></li>' for s in SECTIONS)
    others = site.neighbour(a, 1), site.neighbour(a, 2)
    lines = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(a.title)} | SpaceWar.com</title>",
        f'<meta property="og:title" content="{attr(a.title)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:url" content="{a.url}">',
        '<meta property="og:site_name" content="SpaceWar.com">',
        f'<meta property="article:published_time" content="{iso}">',
        f'<link rel="canonical" href="{a.url}">',
        f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>',
        "</head>", "<body>",
        f'<header><a href="/">SpaceWar.com</a><nav><ul>{nav}</ul></nav></header>',
        "<main>", "<article>", f"<h1>{esc(a.title)}</h1>",
        f'<p class="byline">By <span class="author">{esc(a.byline)}</span> | '
        f'<time datetime="{iso}">{a.when:%B} {a.when.day}, {a.when.year}</time></p>',
    ]
    lines += [f"<p>{esc(p)}</p>" for p in a.paragraphs()]
    lines += [
        "</article>",
        '<aside class="more"><h2>More news</h2><ul>'
        + "".join(f'<li><a href="{o.path}">{esc(o.title)}</a></li>' for o in others) + "</ul></aside>",
        "</main>",
        '<footer><p>Copyright 1995-2025 - Space Media Network.</p><a href="/privacy.html">Privacy</a> '
        '<a href="/about.html">About</a></footer>',
        "</body>", "</html>", "",
    ]
    return CRLF.join(lines).encode("utf-8")


def raw_page(page: RawPage) -> bytes:
    if not page.edits:
        return page.body
    extra = "".join(f"<p>\r\n{esc(e)}\r\n" for e in page.edits).encode("ascii", "xmlcharrefreplace")
    marker = b"<!--RELATED LINKS-->"
    if marker in page.body:
        return page.body.replace(marker, extra + marker, 1)
    return page.body.replace(b"</article>", extra + b"</article>", 1)


# --- listings ----------------------------------------------------------------------------------
def headline_block(a: Article, link: str, k: int) -> list[str]:
    teaser = esc(a.teaser())
    out = [f'<p><span class="HL"><a href="{attr(link)}">{esc(a.title)}</a></span><br>',
           f'<span class="BDT">{esc(a.location)} ({a.agency}) {short_date(a)}</span><br>',
           f'{teaser}... <a href="{attr(link.split("?")[0])}">more</a>']
    if k % 3 == 2:
        out.append(AD_IFRAME.format(r=k) if k % 2 else AD_LABEL)
    return out


def render_home(site: ReplicaSite) -> bytes:
    lines = head("SpaceWar.com - Your World At War", og_type="website", og_url=BASE_URL + "/")
    lines += ["<h2>SpaceWar.com - Your World At War</h2>", '<p><span class="BL">Most Read</span><br>']
    for k, a in enumerate(site.articles[:8]):
        lines.append(f'<a href="{attr(href(a, k + 2))}">{esc(a.title)}</a><br>')
    if site.faults:
        for old in site.redirects:
            lines.append(f'<a href="{old}">{esc(site.by_path[site.redirects[old]].title)}</a><br>')
        lines.append(f'<a href="{site.withdrawn}">Withdrawn story</a><br>')
    lines += ['<a href="/index.html">Front page</a><br>',
              '<a href="http://www.spacewar.com/">SpaceWar.com (http)</a><br>',
              '<a href="/private/embargoed.html">Embargoed: do not publish</a><br>']
    if site.raw_pages:
        lines.append('<p><span class="BL">Also in the news</span><br>')
        for k, page in enumerate(site.raw_pages.values()):
            link = page.path if k % 2 == 0 else f"{BASE_URL}{page.path}?utm_source=home&utm_medium=box"
            lines.append(f'<a href="{attr(link)}">{esc(page.title)}</a><br>')
    for k, a in enumerate(site.home_articles()):
        lines += headline_block(a, href(a, k), k)
    lines += ['<p><span class="BL">Around the network</span><br>',
              '<a href="https://www.spacedaily.com/">SpaceDaily.com</a> | <a href="https://www.energy-daily.com/">'
              'Energy-Daily.com</a> | <a href="https://www.terradaily.com/">TerraDaily.com</a> | '
              '<a href="http://www.marsdaily.com/">MarsDaily.com</a>']
    lines += tail()
    return encode(CRLF.join(lines), "ascii")


def render_listing(site: ReplicaSite, section: Section, page_no: int) -> bytes:
    archives = site.archive_paths(section)
    path = section.path if page_no == 0 else archives[page_no - 1]
    title = section.name if page_no == 0 else f"{section.name} - archive page {page_no}"
    feed = f'<link rel="alternate" type="application/rss+xml" title="{section.name}" href="{section.feed_path}">'
    lines = head(title, og_type="website", og_url=BASE_URL + path, extra=(feed,))
    lines.append(f"<h2>{esc(title)}</h2>")
    for k, a in enumerate(site.listing(section, page_no)):
        lines += headline_block(a, href(a, k, page_dir=posixpath.dirname(path)), k)
    if page_no == 0 and site.faults and section == SECTIONS[0]:
        lines += [f'<p><span class="HL"><a href="{site.dead_link}">Briefing: what we know so far</a></span><br>',
                  '<span class="BDT">Washington (SPX) Nov 20, 2025</span><br>']
    if page_no == 0 and section == SECTIONS[0]:
        for page in site.raw_pages.values():
            lines.append(f'<p><span class="HL"><a href="{attr(page.path)}">{esc(page.title)}</a></span><br>')
    nav = []
    if page_no >= 1:
        newer = section.path if page_no == 1 else archives[page_no - 2]
        nav.append(f'<a href="{newer if page_no == 1 else newer.rsplit("/", 1)[1]}">Newer stories</a>')
    if page_no < len(archives):
        older = archives[page_no]
        nav.append(f'<a href="{older if page_no == 0 else older.rsplit("/", 1)[1]}">Older stories</a>')
    if nav:
        lines.append("<p>" + " | ".join(nav) + "</p>")
    if page_no == 0 and archives:
        lines.append('<p><span class="BL">Archive</span><br>'
                     + " ".join(f'<a href="{p}">{k}</a>' for k, p in enumerate(archives, start=1)) + "</p>")
    lines += tail()
    return encode(CRLF.join(lines), "ascii")


def render_feed(site: ReplicaSite, section: Section | None) -> bytes:
    arts = site.articles[:30] if section is None else site.sections[section.page][:15]
    title = "SpaceWar.com" if section is None else f"SpaceWar.com - {section.name}"
    link = BASE_URL + "/" if section is None else BASE_URL + section.path
    lines = ['<?xml version="1.0" encoding="ISO-8859-1"?>', '<rss version="2.0">', "<channel>",
             f"<title>{esc(title)}</title>", f"<link>{link}</link>", "<language>en-us</language>"]
    for a in arts:
        lines.append(
            f"<item><title>{esc(a.title)}</title><link>{BASE_URL}{a.path}?utm_source=rss&amp;utm_medium=feed</link>"
            f"<description>{esc(a.paragraphs()[0][:200])}</description>"
            f"<pubDate>{format_datetime(a.when, usegmt=True)}</pubDate></item>")
    lines += ["</channel>", "</rss>", ""]
    return encode("\n".join(lines), "ascii")


def render_static(title: str, path: str, text: str) -> bytes:
    lines = head(title, og_type="website", og_url=BASE_URL + path)
    lines += [f"<h2>{esc(title)}</h2>", f"<p>{esc(text)}</p>"]
    lines += tail()
    return encode(CRLF.join(lines), "ascii")


ROBOTS = "".join(
    ["# robots.txt for www.spacewar.com\n", "User-agent: *\n"] + [f"Disallow: {p}\n" for p in DISALLOWED]
).encode("ascii")
STATIC_TEXT = {
    "/about.html": "SpaceWar.com is part of the Space Media Network, publishing news about military space, "
                   "missile defence and nuclear weapons since 1995.",
    "/privacy.html": "We keep no personal data beyond what our advertising partners collect with cookies.",
    "/advertising.html": "Advertise with the Space Media Network: banner, sponsor and newsletter placements.",
}


class Renderer:
    """Path -> Page for one ReplicaSite, with a small cache of recent pages."""

    def __init__(self, site: ReplicaSite, cache_size: int = 512):
        self.site = site
        self.sections = {s.path: s for s in SECTIONS}
        self.feeds = {s.feed_path: s for s in SECTIONS}
        listing_paths = ["/"] + [s.path for s in SECTIONS] + list(site.archives)
        #: every third listing page is sent chunked
        self.chunked_listings = {p for k, p in enumerate(listing_paths) if k % 3 == 2}
        self._cached = lru_cache(maxsize=cache_size)(self._render)

    def render(self, path: str) -> Page | None:
        return self._cached(path, self.site.version)

    def _render(self, path: str, version: int) -> Page | None:
        site = self.site
        html = "text/html"
        if path in ("/", "/index.html"):
            return Page(200, html, render_home(site), "listing", chunked="/" in self.chunked_listings)
        art = site.article_of(path)
        if art is not None:
            if art.layout == "html5":
                body, ctype = render_html5_article(site, art), "text/html; charset=utf-8"
            else:
                body, ctype = render_legacy_article(site, art), f"text/html; charset={declared(art.charset)}"
            return Page(200, ctype, body, "article", article=art,
                        last_modified=format_datetime(art.last_modified, usegmt=True))
        if path in site.raw_pages:
            return Page(200, html, raw_page(site.raw_pages[path]), "article")
        if path in self.sections:
            return Page(200, html, render_listing(site, self.sections[path], 0), "listing",
                        chunked=path in self.chunked_listings)
        if path in site.archives:
            section, page_no = site.archives[path]
            return Page(200, html, render_listing(site, section, page_no), "listing",
                        chunked=path in self.chunked_listings)
        if path == "/spacewar.xml":
            return Page(200, "application/rss+xml", render_feed(site, None), "feed", chunked=True)
        if path in self.feeds:
            return Page(200, "application/rss+xml", render_feed(site, self.feeds[path]), "feed", chunked=True)
        if path == "/robots.txt":
            return Page(200, "text/plain", ROBOTS, "robots")
        if path in STATIC_PAGES:
            return Page(200, html, render_static(STATIC_PAGES[path], path, STATIC_TEXT[path]), "static")
        if path.startswith(DISALLOWED):
            return Page(200, html, render_static("Restricted", path, "Not for robots."), "static")
        if path == "/css/spacewar.css":
            return Page(200, "text/css", b".NAV{font-weight:bold}\n.BDC{font-size:small}\n", "asset")
        if path.startswith(("/images/", "/images-lg/", "/sponsors/")):
            return image_page(path)
        if site.clutter is not None and (path.startswith(SITE_LINK_PREFIXES) or path == "/news/"):
            return Page(200, html, render_static("Reader services", path, "Reader services of SpaceWar.com."),
                        "static")
        return None


def sister_page(host: str, path: str) -> Page:
    if path == "/robots.txt":
        return Page(200, "text/plain", b"User-agent: *\nDisallow:\n", "robots")
    if posixpath.splitext(path)[1].lower() in IMAGE_TYPES:  # the network's image host (spxdaily.com/images-hg/)
        return image_page(path)
    body = (f"<!DOCTYPE html>\r\n<html><head><title>{host}</title></head><body>\r\n"
            f"<p>{host}{esc(path)}: a sister site of SpaceWar.com. The replica serves nothing else here.</p>\r\n"
            "</body></html>\r\n").encode("ascii", "xmlcharrefreplace")
    return Page(200, "text/html; charset=utf-8", body, "sister")


NOT_FOUND = ("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\r\n<html><head><title>404 Not Found</title>"
             "</head><body>\r\n<h1>Not Found</h1>\r\n<p>The requested URL was not found on this server.</p>\r\n"
             "</body></html>\r\n").encode("ascii")
