"""What the generic extraction and cleaning code knows about a site's template, as data (SiteRules), by date.

Markers, selectors, clutter class names and texts of the Space Media Network's table template:
a sister site or a template variant is configuration, not code. `compile_rules` turns them into
the regular expressions and sets the cleaning runs with (once per rules object).

A site's rules can come in dated versions (`DatedRules`), as fundus's parser versions carry a
VALID_UNTIL: a layout from before a redesign gets rules of its own, and `rules_at(versions,
captured)` picks the version for a page by its capture date. Each site's versions are part of its
spec (crawler/site/profiles.py). A layout nobody wrote rules for is read by the generic fallback
(crawler/extract/regions.py), whatever version is picked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache


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


@dataclass(frozen=True)
class DatedRules:
    """One version of a site's rules: for the pages captured up to `valid_until` (that day included), or,
    with None, for the current layout."""

    rules: SiteRules
    valid_until: date | None = None


def capture_day(captured: date | datetime | str | None) -> date | None:
    """The day of a capture: a date, a datetime, or an ISO 8601 / WARC-Date string ("2026-11-25T02:00:00Z")."""
    if captured is None or captured == "":
        return None
    if isinstance(captured, datetime):
        return captured.date()
    if isinstance(captured, date):
        return captured
    return date.fromisoformat(str(captured)[:10])


def rules_at(versions: Sequence[DatedRules], captured: date | datetime | str | None = None) -> SiteRules:
    """The rules of the version valid on the capture day: the dated version with the earliest `valid_until`
    on or after that day, else the current one (no `valid_until`; else the newest). None: now, the current
    rules. No versions: the network's RULES."""
    if not versions:
        return RULES
    day = capture_day(captured)
    dated = sorted((v for v in versions if v.valid_until is not None), key=lambda v: v.valid_until)
    if day is not None:
        for version in dated:
            if day <= version.valid_until:
                return version.rules
    current = [v for v in versions if v.valid_until is None]
    return (current or dated)[-1].rules


@dataclass(frozen=True)
class CompiledRules:
    rules: SiteRules
    clutter_text: re.Pattern
    rights_text: re.Pattern
    non_image: re.Pattern
    clutter_tags: frozenset
    clutter_classes: frozenset
    link_list_titles: frozenset


@lru_cache(maxsize=16)
def compile_rules(rules: SiteRules) -> CompiledRules:
    return CompiledRules(
        rules,
        re.compile("|".join(f"(?:{p})" for p in rules.clutter_texts), re.I | re.S),
        re.compile("|".join(f"(?:{p})" for p in rules.rights_texts), re.I | re.S),
        re.compile("|".join(f"(?:{p})" for p in rules.non_image_patterns), re.I),
        frozenset(rules.clutter_tags),
        frozenset(rules.clutter_classes),
        frozenset(t.lower() for t in rules.end_texts + rules.network_block_titles),
    )
