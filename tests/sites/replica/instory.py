"""The in-story variant of the cluttered replica (issue 24): clutter between the story's paragraphs, in the story's
own paragraph markup, and story lines that look like clutter but must stay.

`ReplicaSite(..., clutter_seed=N, instory=True)` adds, on top of the ordinary seeded clutter (clutter.py; this
module has random generators of its own, so a page without an inserted story line carries exactly the
ordinary variant's pieces),

clutter (pieces of the page's PagePlan, so the evaluation knows their strings):

* `repeat_line`: one sentence repeated mid-story on about a third of the pages of every agency, in two
  wordings (one takes over part-way through the archive, or the two alternate page by page), in a plain
  paragraph between two story paragraphs; on some pages inside a further story too;
* `promo_line`: short promotional lines mid-story (two or three wordings a site, on 10-20% of the pages),
  plain, in <small>, or as a whole-line link;
* `consent_line`: a consent / cookie sentence near the top of the story (before its first paragraph or
  after it), plain;
* `audio_label`: a label of an audio player next to the first paragraph ("Listen ... (4 min)"), plain;
* `reader_call`: a call to the reader (feedback, a question) on 3 pages of a site, each wording on one
  page only, put together from parts so that no two pages say the same thing;

and story text (insertions into the article's paragraphs: part of the expected body, listed by kind in
`ReplicaSite.keep_texts`):

* `correction`: an editor's correction naming something of the story (its place, its agency);
* `update_line`: an "Update:" line or an "updated with" line;
* `agency_closer`: one agency's closing sentence, on about a quarter of that agency's pages;
* `followup_quote`: a quote reused, word for word, by the follow-ups of one story (3-4 consecutive
  articles of one agency).

The wordings are written for this replica; no cleaning rule was written from them.
"""

from __future__ import annotations

import random

from tests.sites.replica.clutter import Piece, visible_strings

CLUTTER_KINDS = ("repeat_line", "promo_line", "consent_line", "audio_label", "reader_call")
KEEP_KINDS = ("correction", "update_line", "agency_closer", "followup_quote")

REPEAT_LINES = (
    "Coverage of this conflict is updated throughout the day as reports come in.",
    "This report is part of a continuing series on defence procurement.",
    "Regional correspondents contributed to the reporting in this section.",
    "Figures quoted in this section come from official releases and may later be revised.",
    "Background on the programmes mentioned here is kept in the site's archive.",
    "Further reporting on this subject appears in the morning briefing.",
)
PROMO_LINES = (
    ("Your weekly defence digest is one click away.", "/digest/"),
    ("Read without ads: try the members' edition free for a month.", "/members/"),
    ("Get our breaking alerts on your phone.", "/alerts/"),
    ("Enjoying this story? You can support our newsroom.", "/support/"),
    ("Save this article to your reading list.", "/my/"),
    ("Our podcast goes deeper every Friday.", "/audio/"),
)
CONSENT_LINES = (
    "By reading on you agree to our use of cookies for analytics.",
    "We use cookies to improve your visit; continuing means you accept them.",
    "Your privacy choices can be changed at any time in the settings.",
    "This site stores small files on your device to measure readership.",
)
AUDIO_LABELS = (
    "Listen to this report ({m} min)",
    "Audio version - {m}:{s:02d}",
    "Hear this story read aloud | {m} min {s} s",
    "Play audio ({m} min listen)",
)
#: parts of a call to the reader: an opening question, then an ask
CALL_OPENINGS = (
    "Have a view on this?", "Did this story leave a question unanswered?", "Spotted something we missed?",
    "Is this happening near you?", "Want to share your experience?", "Do you work in this field?",
)
CALL_ASKS = (
    "Send us a note.", "Tell us in a few lines.", "Write to our desk.", "Let us know below.",
    "Drop us a message.", "Answer our short survey.",
)
CORRECTIONS = (
    "Correction: an earlier draft of this report placed the exercise outside {place}; it was held in {place}.",
    "This article was amended to give the correct date of the {place} announcement.",
    "Clarification: the figures in the third paragraph were supplied by {agency}'s source in {place}.",
)
UPDATES = (
    "Update: officials in {place} confirmed the account late on {weekday}.",
    "Updated with a statement from the defence ministry in {place}.",
    "Update, {weekday}: {agency} has learned that the tests in {place} will resume next month.",
)
AGENCY_CLOSERS = {
    "AFP": ("AFP correspondents in the region could not independently confirm the account.",
            "AFP could not reach the company for comment outside business hours."),
    "UPI": ("UPI has asked the Pentagon for further comment.",
            "UPI was unable to confirm the figures with a second source."),
    "SPX": ("SpaceWar.com staff contributed to this report.",
            "SpaceWar.com has asked the company for the contract's full value."),
    "Sputnik": ("Sputnik will follow the developments in this story.",
                "Sputnik's correspondent was present at the ceremony."),
}
QUOTE_PEOPLE = ("Admiral Ines Varga", "Colonel Tomas Reyes", "Deputy Minister Aiko Mori", "General Pavel Dragan",
                "Senator Ruth Calloway", "Director Elin Strand")
QUOTE_LINES = (
    "We have no intention of stepping back from this commitment",
    "The tests will continue until every sensor has been certified",
    "Our partners understand exactly what is at stake here",
    "No one should doubt that the schedule will be met",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class InStory:
    """One site's in-story clutter and story-like lines, chosen once from the clutter seed."""

    def __init__(self, seed: int, articles: list):
        self.seed = seed
        rng = random.Random(f"instory:{seed}")
        legacy = [a for a in articles if a.layout == "legacy"]
        n = max(12, len(articles))
        self.repeat = rng.sample(REPEAT_LINES, 2)
        self.repeat_alternate = rng.random() < 0.5  # else the second wording takes over part-way
        self.repeat_switch = rng.randint(n // 4, 3 * n // 4)
        self.repeat_share = round(rng.uniform(0.28, 0.38), 3)
        self.repeat_related = round(rng.uniform(0.3, 0.6), 3)  # share of the pages with further stories
        self.promos = rng.sample(PROMO_LINES, rng.randint(2, 3))
        self.promo_share = round(rng.uniform(0.10, 0.20), 3)
        self.consent = rng.sample(CONSENT_LINES, rng.randint(1, 2))
        self.consent_share = round(rng.uniform(0.15, 0.30), 3)
        self.audio = rng.sample(AUDIO_LABELS, rng.randint(1, 2))
        self.audio_share = round(rng.uniform(0.15, 0.30), 3)
        # calls to the reader: 3 pages, each with a wording of its own
        calls = [(o, a) for o in CALL_OPENINGS for a in CALL_ASKS]
        rng.shuffle(calls)
        picked = rng.sample(range(len(legacy)), min(3, len(legacy)))
        self.calls = {legacy[i].seed: " ".join(calls[k]) for k, i in enumerate(picked)}
        self.closer = {agency: rng.choice(lines) for agency, lines in AGENCY_CLOSERS.items()}
        self.closer_share = round(rng.uniform(0.2, 0.3), 3)
        # follow-ups: runs of 3-4 consecutive articles of one agency sharing one quote
        self.quotes: dict[str, str] = {}
        by_agency: dict[str, list] = {}
        used: set[str] = set()
        for a in legacy:
            by_agency.setdefault(a.agency, []).append(a)
        for agency, arts in sorted(by_agency.items()):
            i = 0
            while i < len(arts):
                if rng.random() < 0.12:
                    run = rng.randint(3, 4)
                    for _ in range(20):  # one quote per series
                        quote = (f"\u201c{rng.choice(QUOTE_LINES)},\u201d said {rng.choice(QUOTE_PEOPLE)}, "
                                 f"speaking in {rng.choice(('Brussels', 'Geneva', 'Warsaw', 'Oslo'))}.")
                        if quote not in used:
                            break
                    used.add(quote)
                    for a in arts[i:i + run]:
                        self.quotes[a.seed] = quote
                    i += run
                else:
                    i += 1

    # --- story text (expected body) ---------------------------------------------------------------
    def inserts(self, art, n: int) -> list[tuple[int, str, str]]:
        """(index, text, kind) story lines for an article that has `n` paragraphs so far (applied in order)."""
        rng = random.Random(f"instory-keep:{self.seed}:{art.seed}")
        out: list[tuple[int, str, str]] = []
        fill = {"place": art.location, "agency": art.agency, "weekday": WEEKDAYS[art.when.weekday()]}
        quote = self.quotes.get(art.seed)
        if quote:
            out.append((rng.randint(1, max(1, n - 1)), quote, "followup_quote"))
            n += 1
        if art.agency in self.closer and rng.random() < self.closer_share:
            out.append((n, self.closer[art.agency], "agency_closer"))
            n += 1
        r = rng.random()
        if r < 0.06:
            out.append((n, rng.choice(CORRECTIONS).format(**fill), "correction"))
        elif r < 0.12:
            out.append((0 if rng.random() < 0.5 else n, rng.choice(UPDATES).format(**fill), "update_line"))
        return out

    # --- clutter ------------------------------------------------------------------------------------
    def pieces(self, site, art, n_paras: int, style: str) -> list[Piece]:
        """The page's in-story clutter pieces ("top", "between" after paragraph k, "story_between" after
        paragraph j of further story s: after = 1000 * s + j)."""
        rng = random.Random(f"instory-page:{self.seed}:{art.seed}")
        out: list[Piece] = []

        def add(kind: str, html: str, slot: str, after: int = 0) -> None:
            out.append(Piece(kind, html, visible_strings(html), slot, after))

        def para(inner: str) -> str:
            if style == "br":
                return f"{inner}<br><br>"
            return f"<p>{inner}</p>" if style == "closed" else f"<p>{inner}"

        def mid() -> int:
            return rng.randint(1, max(1, n_paras - 1))

        if rng.random() < self.repeat_share and n_paras > 1:
            if self.repeat_alternate:
                text = self.repeat[rng.random() < 0.5]
            else:
                text = self.repeat[art.index >= self.repeat_switch]
            add("repeat_line", para(text), "between", mid())
        if art.related and rng.random() < self.repeat_related:
            s = rng.randrange(len(art.related)) + 1
            paras = art.related[s - 1].paragraphs
            if len(paras) > 1:
                text = self.repeat[rng.random() < 0.5] if self.repeat_alternate \
                    else self.repeat[art.index >= self.repeat_switch]
                add("repeat_line", para(text), "story_between", 1000 * s + rng.randint(1, len(paras) - 1))
        if rng.random() < self.promo_share and n_paras > 1:
            text, href = rng.choice(self.promos)
            how = rng.choice(("plain", "plain", "small", "link"))
            inner = {"plain": text, "small": f"<small>{text}</small>",
                     "link": f'<a href="{href}">{text}</a>'}[how]
            add("promo_line", para(inner), "between", mid())
        if rng.random() < self.consent_share:
            text = rng.choice(self.consent)
            if rng.random() < 0.6 or n_paras < 2:
                add("consent_line", para(text), "top")
            else:
                add("consent_line", para(text), "between", 1)
        if rng.random() < self.audio_share:
            label = rng.choice(self.audio).format(m=rng.randint(2, 9), s=rng.randint(0, 59))
            if rng.random() < 0.5 or n_paras < 2:
                add("audio_label", para(label), "top")
            else:
                add("audio_label", para(label), "between", 1)
        call = self.calls.get(art.seed)
        if call and n_paras > 1:
            add("reader_call", para(call), "between", rng.randint(max(1, n_paras - 2), n_paras - 1))
        return out
