"""Who a line speaks to: a call to the reader (clutter, even on one page only) told from story text by the line's
grammar and the names of the story around it.

Pure (no Scrapy). `story_names(texts)` counts the names a page carries (its capitalised words);
`reader_address(text, names)` says whether a line is a call to the reader and why (or None when the
line neither speaks to the reader nor asks anything of them). A line is one when

* it is short: at most MAX_WORDS words;
* it is not a quotation (no quotation marks: a quoted "we" or "you" is a speaker's, not the site's);
* it speaks to the reader, in the second person (you, your), or for the site, in the first person
  plural (we, us, our), or it opens a clause with a verb in the imperative: a word that is no
  function word, no plural noun (-s) and no participle (-ed, -ing), followed by the opening of its
  object ("try the ...", "listen to ...", "tell us ...");
* it carries none of the story's names: no capitalised word of it, other than a clause's first word,
  is a capitalised word of the story's other paragraphs, its title, place, agency or author.

These are closed classes of the grammar (pronouns, determiners, prepositions), not wordings: nothing
here lists what a site's appeals say. Where it would take story text: an unquoted, short line in the
second person that names nothing of the story ("If you live near the base, expect the sirens at
noon."), an editor's "We regret the error." standing in a paragraph of its own, a short imperative
subheading that names nothing ("Mind the gap").
"""

from __future__ import annotations

import re

#: at most this many words: a call to the reader is a line, not a paragraph
MAX_WORDS = 20

#: a word: letters (any alphabet's), perhaps with apostrophes
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['\u2019])*")


def _capitals(text: str) -> list[str]:
    """The capitalised words of a text (its first letter upper case, in any alphabet: "Z\u00fcrich", "AFP")."""
    return [w for w in _WORD.findall(text) if w[0].isupper()]
_QUOTES = ('"', "\u201c", "\u201d", "\u00ab", "\u00bb", "\u201e")
#: a clause's end: a sentence's or a label's punctuation, a dash between spaces, a bar
_CLAUSE = re.compile(r"[.:;!?|(]+\s*|\s[-\u2013\u2014]\s")
#: what a lower-case line holds when it can be a call to the reader at all (a cheap gate)
_GATE = re.compile(r"\b(?:you|your|yours|yourself|we|us|our|ours|the|this|these|to|a|an|it|me|my)\b")

SECOND_PERSON = frozenset(("you", "your", "yours", "yourself", "yourselves"))
FIRST_PLURAL = frozenset(("we", "us", "our", "ours", "ourselves"))
#: what opens the object of a verb in the imperative
_OBJECT_OPENERS = frozenset(("the", "this", "these", "that", "a", "an", "our", "your", "us", "me", "it", "to", "my"))
#: function words: never a verb in the imperative
_FUNCTION = frozenset((
    "the", "a", "an", "this", "these", "those", "that", "it", "its", "there", "here", "he", "she", "they", "i",
    "we", "you", "his", "her", "their", "our", "your", "no", "not", "all", "some", "one", "in", "on", "at", "of",
    "for", "to", "by", "with", "from", "and", "but", "or", "as", "if", "when", "while", "after", "before", "so",
    "also", "then", "than", "now", "only", "more", "most", "such", "each", "both", "about", "over", "under",
))


#: capitalised, but the calendar's words, not a story's names
_CALENDAR = frozenset((
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
    "april", "may", "june", "july", "august", "september", "october", "november", "december",
))


def proper_names(text: str) -> list[str]:
    """The capitalised words of a line that do not open one of its clauses (nor are "I" or the calendar's): the
    names it carries."""
    out = []
    for clause in _CLAUSE.split(text):
        caps = _capitals(clause)
        for w in caps[1:] if clause[:1].isupper() else caps:
            lw = w.lower()
            if w != "I" and lw not in _FUNCTION and lw not in _CALENDAR:
                out.append(w)
    return out


def quoted(text: str) -> bool:
    """The line holds quotation marks (a speaker's words)."""
    return any(q in text for q in _QUOTES)


def story_names(texts) -> dict[str, int]:
    """{lower-cased capitalised word: occurrences} over a page's texts (its paragraphs, title, place, agency,
    author): a line's word is one of the story's names when the page has it outside that line too."""
    names: dict[str, int] = {}
    for text in texts:
        if text:
            for w in _capitals(text):
                w = w.lower()
                names[w] = names.get(w, 0) + 1
    return names


def could_address(low: str) -> bool:
    """A cheap test on a lower-case line: can reader_address find anything in it."""
    return _GATE.search(low) is not None


def _imperative(text: str) -> str | None:
    """The verb of a clause in the imperative, if one opens the line's clauses."""
    for clause in _CLAUSE.split(text):
        words = _WORD.findall(clause)
        if len(words) < 2:
            continue
        verb, nxt = words[0].lower(), words[1].lower()
        if nxt in _OBJECT_OPENERS and verb not in _FUNCTION and len(verb) > 2 \
                and not verb.endswith(("s", "ed", "ing", "ly")):
            return verb
    return None


def reader_address(text: str, names) -> tuple[bool, str] | None:
    """(True, why) when `text` is a call to the reader (see the module docstring); (False, why not) when it
    speaks to the reader or for the site but is story text; None when it does neither. `names`: a
    function that returns story_names() of the page, this line included (asked only when needed)."""
    words = _WORD.findall(text)
    if not words:
        return None
    low = {w.lower() for w in words}
    if low & SECOND_PERSON:
        person = "speaks to the reader (second person)"
    elif low & FIRST_PLURAL:
        person = "speaks for the site (first person plural)"
    else:
        verb = _imperative(text)
        if verb is None:
            return None
        person = f"asks the reader to act (imperative '{verb}')"
    if quoted(text):
        return False, f"{person}, but in quotation marks (a speaker's words)"
    if len(words) > MAX_WORDS:
        return False, f"{person}, but {len(words)} words long (more than {MAX_WORDS}: a paragraph)"
    # the story's names: a capitalised word that does not open a clause, found on the page outside this line
    own: dict[str, int] = {}
    for w in _capitals(text):
        w = w.lower()
        own[w] = own.get(w, 0) + 1
    found = proper_names(text)
    page_names = names() if found else None
    for w in found:
        if page_names.get(w.lower(), 0) > own[w.lower()]:
            return False, f"{person}, but it names the story's {w}"
    return True, f"a call to the reader: {person}, {len(words)} words, none of the story's names"
