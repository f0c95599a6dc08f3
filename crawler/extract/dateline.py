"""Dateline parsing: the text of an article's dateline in, its date, author, place and source out.

The site's datelines (tests/fixtures/samples/ has pages with each form) look like

    Washington, May 30 (AFP) May 30, 2024
    Paris (AFP) Jun 03, 2024
    by Staff Writers
    Washington DC (SPX) Jun 03, 2024

that is: an optional byline line, then the place (sometimes followed by ", <Mon> <day>"), the
source in parentheses, and the date. `parse_dateline` never raises: what it cannot read is None.
"""

from __future__ import annotations

import datetime as _dt
import re

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?" \
         r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"

#: "May 30, 2024", "Jun 03 2024", "Sept. 3, 2024", "June 3rd, 2024"
_DATE_MDY = re.compile(rf"\b(?P<month>{_MONTH})\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.I)
#: "30 May 2024"
_DATE_DMY = re.compile(rf"\b(?P<day>\d{{1,2}})\s+(?P<month>{_MONTH})\s+(?P<year>\d{{4}})\b", re.I)
#: "2024-05-30"
_DATE_ISO = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b")
#: the source in parentheses: "(AFP)", "(SPX)", "(UPI)", "(RIA Novosti)", "(AFP/SPX)"
_SOURCE = re.compile(r"\(\s*(?P<agency>[^()]{1,40}?)\s*\)")
#: ", May 30" after the place (the AFP form repeats the day there)
_PLACE_DAY = re.compile(rf",?\s*\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\s*$", re.I)
_BY = re.compile(r"^\s*by\s+", re.I)
#: a "by Staff Writers" prefix on the line of the place
_BY_STAFF = re.compile(r"^\s*(by\s+staff\s+(?:writers?|reporters?))\b\s*", re.I)
#: bylines that name no person
NO_AUTHOR = re.compile(r"^(?:by\s+)?(?:the\s+)?(?:staff(?:\s+(?:writers?|reporters?))?|editors?|wire reports?)\.?$", re.I)


def empty() -> dict:
    return {"published": None, "author": None, "location": None, "agency": None}


def iso_date(text: str) -> str | None:
    """The first calendar date in `text` as "YYYY-MM-DD", or None."""
    if not text:
        return None
    for pattern in (_DATE_MDY, _DATE_DMY, _DATE_ISO):
        m = pattern.search(text)
        if not m:
            continue
        month = m.group("month")
        month_no = int(month) if month.isdigit() else MONTHS.get(month.rstrip(".").lower())
        try:
            return _dt.date(int(m.group("year")), month_no or 0, int(m.group("day"))).isoformat()
        except (TypeError, ValueError):
            continue
    return None


def normalise_author(text: str | None) -> str | None:
    """A byline as a name: "by Laurent Thomet" -> "Laurent Thomet"; staff bylines and blanks -> None."""
    if not text:
        return None
    text = " ".join(text.split()).strip(" ,;:-|")
    if not text or NO_AUTHOR.match(text):
        return None
    text = _BY.sub("", text).strip(" ,;:-|")
    return text or None


def _split_byline(lines: list[str]) -> tuple[str | None, str]:
    """(byline, rest): the byline is a first line starting with "by", or a "by Staff Writers" prefix."""
    if len(lines) > 1 and (_BY.match(lines[0]) or NO_AUTHOR.match(lines[0])):
        return lines[0], " ".join(lines[1:])
    text = " ".join(lines)
    m = _BY_STAFF.match(text)
    if m:
        return m.group(1), text[m.end():]
    if _BY.match(text):
        # "by Name Place (SRC) date" on one line: the name cannot be told from the place
        return None, ""
    return None, text


def parse_dateline(text: str) -> dict:
    """{"published", "author", "location", "agency"} read from a dateline; None for what is missing."""
    out = empty()
    if not isinstance(text, str) or not text.strip():
        return out
    lines = [" ".join(line.split()) for line in text.replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    byline, rest = _split_byline(lines)
    out["author"] = normalise_author(byline)
    if not rest:
        return out
    source = _SOURCE.search(rest)
    if source:
        place, after = rest[: source.start()], rest[source.end():]
        out["agency"] = source.group("agency") or None
        out["published"] = iso_date(after) or iso_date(place)
    else:
        m = _DATE_MDY.search(rest) or _DATE_DMY.search(rest)
        place = rest[: m.start()] if m else ""
        out["published"] = iso_date(rest)
    place = _PLACE_DAY.sub("", place).strip(" ,;:-|")
    out["location"] = place or None
    return out


#: a further story's first line: "Washington (AFP) Jan 29, 2024 - text", "Paris, Jan 28 (AFP) Jan 28, 2024 - text"
_LEAD_DATELINE = re.compile(
    rf"^(?P<dateline>[^()\n]{{1,80}}?\(\s*[^()\n]{{1,40}}?\s*\)\s+{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
    r"\s+[-\u2013\u2014]+\s+(?P<rest>\S.*)$", re.I | re.S)


def split_lead_dateline(text: str) -> tuple[str, str] | None:
    """("Washington (AFP) Jan 29, 2024", "text") for a paragraph that opens with a dateline joined to its
    text by " - " (how the network prints a further story's first paragraph); None otherwise."""
    if text.find("(", 0, 90) < 0:
        return None
    m = _LEAD_DATELINE.match(text)
    return (m.group("dateline"), m.group("rest")) if m else None
