"""Story text of the cluttered replica that a cleaner must keep, and the further stories of multi-story pages.

Two things live here, both part of what a correct crawl must export (they change expected items):

* **Paragraphs that legitimately repeat across a site's articles** (`StoryRepeat`): an agency's
  standard closing or background sentence, a company's "about us" paragraph at the end of its
  press releases, a programme's standard description, a short stock sentence ("No casualties were
  reported."). Each seed picks a handful from REPEAT_POOL, each with its own share of articles
  (12-40%) and its place (last paragraph, second to last, in the middle). They are story text:
  a cleaner that learns boilerplate from recurrence must keep them. `ReplicaSite.repeat_texts`
  names them so the evaluation reports their recall on its own.

* **Further wire stories below the main one** (`RelatedStory`, SITE.md "Pages with more than
  one story"): a headline on a line of its own, then "<dateline> - <first paragraph>", then the
  other paragraphs. The item's body is the main story only; each further story is one entry of
  `related_stories`: {title, location, agency, published, body}.

Everything is drawn from seeded random.Random instances (string seeds: the same on every run).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from tests.sites.replica.content import (
    CLAIMS, PLACES, QUOTES, SPEAKERS, SUBJECTS, TAILS, TITLE_ACTIONS, TITLE_SUBJECTS, TITLE_TAILS, VERBS,
)


@dataclass(frozen=True)
class StoryRepeat:
    key: str
    text: str
    agencies: tuple[str, ...] | None  # None: any agency
    place: str  # "last", "second-last", "middle", "second"


#: Story paragraphs that recur verbatim across articles of one site. Written for this replica
#: (fictional companies and programmes); none is clutter.
REPEAT_POOL: tuple[StoryRepeat, ...] = (
    # agency background and closing sentences
    StoryRepeat("bg-ukraine", "Russia launched its full-scale invasion of Ukraine in February 2022, and "
                "the fighting has since displaced millions of people on both sides of the front line.",
                ("AFP", "UPI"), "second-last"),
    StoryRepeat("bg-korea", "The two Koreas remain technically at war, since the 1950-53 conflict ended with "
                "an armistice rather than a peace treaty.", ("AFP", "UPI"), "last"),
    StoryRepeat("bg-sanctions", "North Korea is barred by United Nations Security Council resolutions from "
                "testing ballistic missile technology.", ("AFP", "UPI", "Sputnik"), "middle"),
    StoryRepeat("bg-taiwan", "Beijing considers the self-ruled island part of its territory and has not ruled "
                "out the use of force to bring it under its control.", ("AFP",), "last"),
    StoryRepeat("bg-newstart", "The last remaining arms control treaty between the two largest nuclear powers "
                "limits each side to 1,550 deployed strategic warheads.", ("AFP", "UPI"), "middle"),
    StoryRepeat("close-comment", "The ministry did not immediately respond to a request for comment.",
                None, "last"),
    StoryRepeat("close-details", "No further details were given.", None, "last"),
    StoryRepeat("close-casualties", "There were no immediate reports of casualties.", None, "second-last"),
    StoryRepeat("close-verify", "AFP was not able to independently verify the claims.", ("AFP",), "last"),
    StoryRepeat("close-unclear", "It was not immediately clear how many systems had been delivered so far.",
                None, "last"),
    StoryRepeat("mid-pentagon", "The Pentagon has requested additional funds for the programme in each of its "
                "last three budget submissions.", ("UPI", "SPX"), "middle"),
    # press-release boilerplate (the network's own staff often run a company's release whole)
    StoryRepeat("about-northgate", "Northgate Orbital Systems designs and builds small satellites and ground "
                "terminals for defence and civil customers. Founded in 2004, the company employs about 1,400 "
                "people at sites in Colorado and Bavaria.", ("SPX",), "last"),
    StoryRepeat("about-halvard", "Halvard Defence is a European supplier of radar, electronic warfare and "
                "air defence systems, with annual revenues of \u20ac3.1 billion and customers in more than "
                "forty countries.", ("SPX",), "last"),
    StoryRepeat("about-kestrel", "About Kestrel Dynamics: Kestrel Dynamics develops autonomous aircraft and "
                "the software that flies them. The company is headquartered in San Diego, California.",
                ("SPX", "UPI"), "last"),
    StoryRepeat("prog-sentinel", "The Sentinel Shield programme is intended to field a layered network of "
                "sensors and interceptors able to engage manoeuvring hypersonic weapons.", ("SPX", "UPI"),
                "second"),
    StoryRepeat("prog-tranche", "Each tranche of the constellation is planned to add about 150 satellites in "
                "low Earth orbit, launched over a two-year period.", ("SPX", "AFP"), "middle"),
    StoryRepeat("prog-eurosky", "The European Sky Shield Initiative, launched in 2022, brings together more than "
                "twenty countries buying air and missile defence systems jointly.", ("AFP", "SPX"), "middle"),
    StoryRepeat("fls", "This release contains forward-looking statements that involve risks and uncertainties; "
                "actual results may differ materially from those described.", ("SPX",), "last"),
    StoryRepeat("close-sputnik", "The Russian Defence Ministry said all targets had been destroyed.",
                ("Sputnik",), "last"),
    StoryRepeat("bg-iran", "Tehran denies seeking a nuclear weapon and says its programme is for civilian "
                "purposes only.", ("AFP", "UPI", "Sputnik"), "second-last"),
)


def choose_repeats(rng: random.Random) -> list[tuple[StoryRepeat, float]]:
    """A site's repeating story paragraphs: 5 to 8 of the pool, each with the share of the matching articles
    that carry it (0.12-0.40)."""
    picked = rng.sample(REPEAT_POOL, rng.randint(5, 8))
    return [(r, round(rng.uniform(0.12, 0.40), 3)) for r in picked]


def place_repeats(rng: random.Random, repeats, agency: str, n_base: int) -> tuple[tuple[int, str], ...]:
    """(index, text) insertions for one article with `n_base` generated paragraphs: at most two repeats,
    each at its usual place (indices refer to the final list, applied in order)."""
    chosen = [r for r, share in repeats if (r.agencies is None or agency in r.agencies) and rng.random() < share]
    chosen = chosen[:2]
    out: list[tuple[int, str]] = []
    n = n_base
    # "last" ones go in last, so that a second-last one stays before them
    for r in sorted(chosen, key=lambda r: r.place == "last"):
        if r.place == "last":
            idx = n
        elif r.place == "second-last":
            idx = max(1, n - 1)
        elif r.place == "second":
            idx = min(1, n)
        else:
            idx = rng.randint(1, max(1, n - 1))
        out.append((idx, r.text))
        n += 1
    return tuple(out)


# --- further stories on one page -------------------------------------------------------------------
@dataclass(frozen=True)
class RelatedStory:
    title: str
    location: str
    agency: str
    when: datetime
    paragraphs: tuple[str, ...]
    dated: bool  # "Washington, Jan 29 (AFP) Jan 29, 2024" rather than "Washington (AFP) Jan 29, 2024"

    @property
    def published(self) -> str:
        return self.when.strftime("%Y-%m-%d")

    def dateline(self) -> str:
        where = f"{self.location}, {self.when:%b} {self.when.day}" if self.dated else self.location
        return f"{where} ({self.agency}) {self.when:%b %d, %Y}"

    def expected(self) -> dict:
        return {"title": self.title, "location": self.location, "agency": self.agency,
                "published": self.published, "body": "\n\n".join(self.paragraphs)}


def related_stories(rng: random.Random, main_when: datetime, avoid_titles: set[str]) -> list[RelatedStory]:
    """One further story, sometimes two, dated the main story's day or up to two days around it."""
    n = 1 if rng.random() < 0.72 else 2
    out = []
    for _ in range(n):
        for _attempt in range(20):
            title = f"{rng.choice(TITLE_SUBJECTS)} {rng.choice(TITLE_ACTIONS)}{rng.choice(TITLE_TAILS)}"
            if title not in avoid_titles:
                break
        avoid_titles.add(title)
        agency = rng.choice(("AFP", "AFP", "AFP", "UPI", "SPX"))
        when = main_when + timedelta(days=rng.choice((-1, 0, 0, 0, 1, 2)))
        paras = []
        for k in range(rng.randint(2, 7)):
            if k and rng.random() < 0.2:
                paras.append(f"\u201c{rng.choice(QUOTES)},\u201d {rng.choice(SPEAKERS)}.")
            else:
                paras.append(" ".join(
                    f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} that {rng.choice(CLAIMS)}, {rng.choice(TAILS)}."
                    for _ in range(rng.randint(1, 3))))
        out.append(RelatedStory(title, rng.choice(PLACES), agency, when, tuple(paras),
                                dated=agency == "AFP" and rng.random() < 0.3))
    return out
