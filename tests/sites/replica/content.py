"""The replica's content: a deterministic (seeded) SpaceWar.com with its articles, sections and faults.

This module holds the generator's own data, nothing about HTML or HTTP: every article's
title, dateline parts, paragraphs, images and rights notice come from here, and so does
`expected_items()`, the items a correct crawl must export. pages.py renders this data in
the site's template; server.py serves it.

Article metadata (path, title, date, source, kind) is made for every article at start-up
(cheap: 20,000 articles in well under a second); paragraphs and images are generated on
demand from the article's own seed, so nothing large is kept in memory.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

WWW = "www.spacewar.com"
BASE_URL = f"https://{WWW}"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# --- the network -------------------------------------------------------------------------------
#: Other hosts the replica answers for (with a tiny page), so that an off-site fetch shows in the log.
SISTER_HOSTS = (
    "www.spacedaily.com", "spacedaily.com", "www.energy-daily.com", "energy-daily.com",
    "www.terradaily.com", "terradaily.com", "www.spxdaily.com", "spxdaily.com",
    "www.marsdaily.com", "marsdaily.com", "ads.spacemedianetwork.example",
    "pagead2.googlesyndication.com",
)
SITE_HOSTS = (WWW, "spacewar.com")


@dataclass(frozen=True)
class Section:
    page: str  # "Missile_Defense" -> /Missile_Defense.html
    name: str  # "Missile Defense"
    topic: str  # "missile-defense" -> /news/missile-defense-25aa.html, /news/missile-defense-n.xml

    @property
    def path(self) -> str:
        return f"/{self.page}.html"

    @property
    def feed_path(self) -> str:
        return f"/news/{self.topic}-n.xml"


SECTIONS = (
    Section("Missile_Defense", "Missile Defense", "missile-defense"),
    Section("Nuclear_Weapons", "Nuclear Weapons", "nuclear-weapons"),
    Section("Military_Space", "Military Space News", "military-space"),
    Section("Cyber_War", "Cyber Wars", "cyber-war"),
    Section("Ukraine", "Ukraine War", "ukraine"),
)

STATIC_PAGES = {"/about.html": "About Us", "/privacy.html": "Privacy Statement",
                "/advertising.html": "Advertise With Us"}
#: robots.txt disallows these prefixes; pages link into every one of them.
DISALLOWED = ("/cgi-bin/", "/search/", "/private/")

# --- rights notices ----------------------------------------------------------------------------
AFP_NOTICE = (
    "All rights reserved. Copyright Agence France-Presse. Sections of the information displayed on this "
    "page (dispatches, photographs, logos) are protected by intellectual property rights owned by Agence "
    "France-Presse. As a consequence, you may not copy, reproduce, modify, transmit, publish, display or in "
    "any way commercially exploit any of the content of this section without the prior written consent of "
    "Agence France-Presse."
)


def upi_notice(year: int) -> str:
    return (f"Copyright {year} United Press International, Inc. All Rights Reserved. This material may not "
            "be published, broadcast, rewritten or redistributed without the prior written consent of "
            "United Press International.")


# --- word lists (sentences about defence news, in the samples' manner) -------------------------
SUBJECTS = (
    "The Pentagon", "The defence ministry", "The foreign ministry", "Military planners", "Air force chiefs",
    "A senior army officer", "Analysts in Brussels", "Lawmakers in Washington", "Industry executives",
    "The contractor", "The agency", "Navy officials", "A NATO spokeswoman", "Officials in Seoul",
    "Diplomats in Geneva", "The space command", "Investigators", "The prime minister's office",
)
VERBS = ("said on Tuesday", "announced", "confirmed", "estimated", "suggested", "acknowledged", "insisted",
         "stressed", "warned", "told reporters", "noted", "argued")
CLAIMS = (
    "the interceptor programme would enter full production next year",
    "the launch had been delayed by a fault in the upper stage",
    "a second batch of satellites had reached its planned orbit",
    "the radar network could track targets at twice the previous range",
    "new sanctions targeted suppliers of navigation components",
    "the joint exercise would involve more than forty aircraft",
    "cyber intrusions against logistics firms were traced to a state-backed group",
    "the treaty talks would resume after the summer recess",
    "the warhead inspections had been suspended since February",
    "ground stations in the north were upgraded to handle encrypted traffic",
    "drone attacks on energy sites had intensified over the weekend",
    "the budget request includes new funding for hypersonic defence",
    "the contract covers maintenance of the fleet through 2031",
    "the tracking data was shared with allies within minutes",
    "the alliance\u2019s eastern flank would receive two more air defence batteries",
    "jamming of satellite navigation signals had grown more frequent over the Baltic",
    "the early-warning satellite had passed its final checks \u2014 weeks ahead of schedule",
    "spending on R&D for directed-energy weapons would double by the end of the decade",
)
TAILS = (
    "without providing further details", "citing figures from the previous quarter",
    "in a briefing at the ministry headquarters", "amid growing concern among neighbouring states",
    "though no timetable was given", "in remarks broadcast on state television",
    "according to a statement released late on Monday", "after months of negotiations with the manufacturer",
    "in what officials called a routine step", "as the alliance reviews its posture in the east",
)
QUOTES = (
    "We are not going to stand still while the threat evolves",
    "The system performed exactly as designed",
    "Nobody should misread our restraint as weakness",
    "This is a question of when, not if",
    "We will keep our commitments to our partners",
    "Space is now a contested domain, and we have to act like it",
    "The data speak for themselves",
)
SPEAKERS = ("a spokesman said", "the minister added", "one diplomat said in a statement",
            "the programme director said", "a senior official told AFP", "the general said",
            "a spokesman said in a statement")
#: Sentences with letters and signs beyond ASCII (numeric entities, or raw windows-1252 bytes).
EXTRAS = (
    "The programme is worth \u20ac{n}.{d} billion over ten years, according to the budget office.",
    "Talks hosted in Z\u00fcrich ended without a joint statement, a participant said.",
    "The delegation from Bogot\u00e1 is expected to sign the agreement on Friday.",
    "Engineers at the Malm\u00f6 plant have already delivered {n} units, the company\u2019s chief executive said.",
    "Minister Fran\u00e7oise Duval described the deal as \u2018a turning point\u2019 for the industry.",
    "S\u00e3o Paulo\u2019s aerospace cluster supplies parts for {n} of the satellites.",
)

TITLE_SUBJECTS = (
    "Navy", "Air Force", "Space Force", "Army", "Pentagon", "NATO", "Seoul", "Tokyo", "Ankara", "Canberra",
    "Moscow", "Beijing", "Kyiv", "Paris", "Berlin", "Taipei", "Warsaw", "Manila", "New Delhi", "Oslo",
    "Helsinki", "Stockholm", "London", "Rome", "Madrid", "Ottawa", "Vilnius", "Tallinn", "Riga", "Prague",
    "Bucharest", "Athens", "Jakarta", "Hanoi", "Wellington", "Brasilia", "Cairo", "Riyadh", "Abu Dhabi", "Doha",
)
TITLE_ACTIONS = (
    "boosts defence budget", "tests new interceptor", "reports cyber attack", "signs missile deal",
    "unveils hypersonic glider", "orders more satellites", "warns of drone swarms", "probes navigation jamming",
    "halts warhead inspections", "holds air drills", "launches spy satellite", "expands radar network",
    "fields laser weapon", "buys tanker aircraft", "scraps frigate plan", "delays fighter upgrade",
    "seeks anti-satellite ban", "trains drone pilots", "opens space command", "deploys air defences",
    "hardens power grid", "recalls envoy", "tracks missile launch", "funds shipyard expansion",
    "names new army chief", "joins satellite network", "bans export of chips", "stages naval patrol",
    "restarts reactor talks", "sanctions arms brokers", "counts cost of drone strikes",
    "grounds helicopter fleet", "tests ballistic missile", "buys surveillance drones", "boosts troop numbers",
    "plans sovereign launcher", "jams enemy radar", "shores up cyber defences", "signs basing agreement",
    "rolls out new rifle",
)
TITLE_TAILS = ("", "", "", "", " as tensions rise", ": officials", " in \u2018historic\u2019 move",
               " amid Ukraine war", ": report", " after delays", " despite objections", " for first time",
               " near border", ": sources")
PLACES = ("Washington", "Washington DC", "Paris", "Brussels", "Kyiv", "Tokyo", "Seoul", "Moscow", "Beijing",
          "Canberra", "Ankara", "Los Angeles", "London", "Berlin", "Taipei", "The Hague", "Colorado Springs",
          "Z\u00fcrich", "Bogot\u00e1")
AUTHORS = ("Laurent Thomet", "Hugo Ritmico", "Marie Dubois", "Daniel Okafor", "Jens Halvorsen",
           "Ana L\u00facia Ferreira", "Kenji Watanabe", "Olena Kovalenko", "Patrick O'Neill",
           "Jos\u00e9 Ram\u00edrez", "Sarah Whitfield", "Mikhail Petrov")
AGENCIES = ("AFP", "AFP", "AFP", "AFP", "SPX", "SPX", "SPX", "UPI", "UPI", "Sputnik")
CAPTIONS = (
    "Illustration only: {t} (file photo).",
    "File image of a test launch at a coastal range.",
    "A crew prepares the launcher during an exercise, in a handout picture released by the ministry.",
    "Satellite image of the site taken in {y}. Photo: \u00a9 Space Media Network.",
    "The radar station seen from the air \u2014 image courtesy of the manufacturer.",
)
NEWEST = datetime(2025, 11, 26, 17, 40, tzinfo=timezone.utc)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def archive_letters(k: int, width: int) -> str:
    """The letters of the k-th archive page in its path (base 26: 1 -> "b", 26 -> "ba"), padded with "a"."""
    letters = ""
    while True:
        letters = "abcdefghijklmnopqrstuvwxyz"[k % 26] + letters
        k //= 26
        if k == 0:
            return letters.rjust(width, "a")


def slug(title: str) -> str:
    """The site's path words for a title: "Air Force holds air drills: officials" -> "Air_Force_holds_air_drills_officials"."""
    words = re.sub(r"[^A-Za-z0-9 -]+", "", title.replace("-", " ")).split()
    return "_".join(words)


@dataclass(frozen=True)
class Image:
    src: str  # as written in the page (absolute, or site-relative)
    url: str  # absolute
    caption: str


@dataclass
class Article:
    """One generated article: everything its page says, and what its item must contain."""

    index: int  # 0 = newest
    seed: str
    path: str
    title: str
    when: datetime
    location: str
    agency: str
    byline: str | None  # as the page says it: a name, "Staff Writers", or None (no byline)
    section: Section
    dateline_style: str  # "plain" or "afp-dated" ("Washington, May 30 (AFP) May 30, 2024")
    layout: str = "legacy"  # or "html5" (the one article in a modern layout)
    charset: str = "ascii"  # "ascii" (numeric entities), "windows-1252" or "iso-8859-1" (raw cp1252 bytes)
    paragraph_style: str = "open"  # "open" (<p> never closed), "closed", "br" (<br><br>)
    n_images: int = 0
    fault: str | None = None  # None, "flaky", "slow", "truncated", "redirected"
    edits: list[str] = field(default_factory=list)  # paragraphs appended by edit_article()
    modified: datetime | None = None
    #: with a clutter seed (clutter.py, stories.py): story paragraphs that repeat across the site's articles,
    #: as (index, text) insertions into the generated paragraphs, applied in order
    inserts: tuple[tuple[int, str], ...] = ()
    #: with multi_story: the further stories printed below this one (stories.RelatedStory); None: option off
    related: list | None = None
    #: with a clutter seed: the site's own wording of the agency's notice (custom_rights True)
    custom_rights: bool = False
    rights_text: str | None = None
    #: a syndicated copy's differences from its story (syndication.py): the last paragraph cut, and words
    #: replaced once each in the first paragraph that has them (a typo made or fixed)
    cut_last: bool = False
    rewrites: tuple[tuple[str, str], ...] = ()

    @property
    def url(self) -> str:
        return BASE_URL + self.path

    @property
    def published(self) -> str:
        return self.when.strftime("%Y-%m-%d")

    @property
    def author(self) -> str | None:
        return None if self.byline in (None, "Staff Writers") else self.byline

    @property
    def rights(self) -> str | None:
        if self.custom_rights:
            return self.rights_text
        if self.agency == "AFP":
            return AFP_NOTICE
        if self.agency == "UPI":
            return upi_notice(self.when.year)
        return None

    @property
    def last_modified(self) -> datetime:
        return self.modified or self.when + timedelta(minutes=7)

    def paragraphs(self) -> list[str]:
        paras = list(_paragraphs(self.seed, self.charset != "ascii"))
        for index, text in self.inserts:
            paras.insert(index, text)
        if self.cut_last and len(paras) > 2:
            paras.pop()
        for old, new in self.rewrites:
            at = next((k for k, p in enumerate(paras) if old in p), None)
            if at is not None:
                paras[at] = paras[at].replace(old, new, 1)
        return paras + self.edits

    def images(self) -> list[Image]:
        return list(_images(self.seed, self.n_images, self.title, self.when.year))

    def teaser(self) -> str:
        first = self.paragraphs()[0]
        return first if len(first) <= 160 else first[:160]

    def expected(self) -> dict:
        item = {
            "url": self.url, "title": self.title, "published": self.published, "author": self.author,
            "location": self.location, "agency": self.agency, "body": "\n\n".join(self.paragraphs()),
            "images": [{"url": i.url, "caption": i.caption} for i in self.images()],
            "rights": self.rights, "extraction": "site-rules",
        }
        if self.related is not None:
            item["related_stories"] = [r.expected() for r in self.related]
        if self.layout == "html5":
            # no dateline on the page: where and from which agency is not stated, so not asserted
            del item["location"], item["agency"]
            item["rights"] = None
            item["extraction"] = "fallback"
        return item


@lru_cache(maxsize=4096)
def _paragraphs(seed: str, rich: bool) -> tuple[str, ...]:
    rng = random.Random("paragraphs:" + seed)

    def statement(k: int) -> str:
        out = []
        for _ in range(k):
            out.append(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} that {rng.choice(CLAIMS)}, {rng.choice(TAILS)}.")
        return " ".join(out)

    def quote() -> str:
        return f"\u201c{rng.choice(QUOTES)},\u201d {rng.choice(SPEAKERS)}."

    def extra() -> str:
        return rng.choice(EXTRAS).format(n=rng.randint(2, 40), d=rng.randint(1, 9))

    n = rng.randint(4, 16)
    paras = [statement(rng.randint(1, 3))]
    for _ in range(n - 1):
        r = rng.random()
        paras.append(quote() if r < 0.18 else extra() if r < 0.28 else statement(rng.randint(1, 3)))
    if rich:  # pages in windows-1252: make sure curly quotes and accented letters are there
        paras.insert(min(2, len(paras)), quote())
        paras.insert(min(4, len(paras)), rng.choice(EXTRAS[1:]).format(n=rng.randint(2, 40), d=1))
    return tuple(paras)


@lru_cache(maxsize=4096)
def _images(seed: str, n: int, title: str, year: int) -> tuple[Image, ...]:
    rng = random.Random("images:" + seed)
    stem = slug(title).lower()[:30].rstrip("_")
    out = []
    for k in range(n):
        name = f"{stem}-lg.jpg" if k == 0 else f"{stem}-{k + 1}-lg.jpg"
        if rng.random() < 0.25:
            src = f"/images-lg/{name}"
            url = BASE_URL + src
        else:
            src = url = f"https://www.spxdaily.com/images-hg/{name}"
        caption = rng.choice(CAPTIONS).format(t=title.lower(), y=year - 1)
        out.append(Image(src, url, caption))
    return tuple(out)


@dataclass
class RawPage:
    """A sample or fixture page served byte for byte, with its hand-written expected item."""

    path: str
    body: bytes
    expected: dict | None  # None: served, but not an article a crawl must export
    title: str
    edits: list[str] = field(default_factory=list)


class ReplicaSite:
    """The site's content: articles newest first, sections and their archive pages, faults, raw pages."""

    def __init__(self, n_articles: int = 40, *, faults: bool = True, seed: int = 2024,
                 fixtures_dir: Path | None = FIXTURES, clutter_seed: int | None = None,
                 multi_story: bool = False, plain_clutter: bool = False, instory: bool = False):
        """`clutter_seed`: render the articles with the seeded clutter of tests/sites/replica/clutter.py (one
        site template per seed) and with story paragraphs that repeat across articles (stories.py).
        `multi_story`: a share of the articles carry further stories below the main one, and every
        expected article item gets `related_stories` (needs the clutter renderer: without a
        clutter_seed, `seed` is used as one). `plain_clutter`: the clutter template's stress variant
        (clutter.ClutterTemplate, plain=True). `instory`: the in-story variant (instory.py: clutter between
        the story's paragraphs in their own markup, and story lines that look like clutter; needs a
        clutter_seed). None set: the replica is exactly as it always was."""
        if n_articles < 12:
            raise ValueError("the replica needs at least 12 articles (faults and kinds are spread over them)")
        self.n_articles = n_articles
        self.faults = faults
        self.seed = seed
        if multi_story and clutter_seed is None:
            clutter_seed = seed
        self.clutter_seed = clutter_seed
        self.multi_story = multi_story
        self.plain_clutter = plain_clutter
        self.instory_on = instory
        self.instory = None  # instory.InStory with `instory`
        #: with `instory`: the story lines that look like clutter, by kind (instory.KEEP_KINDS): a cleaner must keep them
        self.keep_texts: dict[str, set[str]] = {}
        self.clutter = None  # clutter.ClutterTemplate when clutter_seed is set
        #: story paragraphs that repeat across this site's articles (clutter_seed only): a cleaner must keep them
        self.repeat_texts: set[str] = set()
        self.articles: list[Article] = []
        self.by_path: dict[str, Article] = {}
        self._generate()
        if clutter_seed is not None:
            self._decorate()
        self.sections = {s.page: [a for a in self.articles if a.section == s] for s in SECTIONS}
        per_section = max(len(v) for v in self.sections.values())
        #: articles per listing page (section pages and their archive pages)
        self.per_page = max(3, min(25, per_section // 3))
        self.archives: dict[str, tuple[Section, int]] = {}  # path -> (section, page number >= 1)
        for s in SECTIONS:
            for page_no, path in enumerate(self.archive_paths(s), start=1):
                self.archives[path] = (s, page_no)
        self.raw_pages: dict[str, RawPage] = {}
        self.version = 0  # bumped by every edit, so rendered pages are not served stale
        if fixtures_dir is not None:
            self._load_raw_pages(Path(fixtures_dir))
        self._assign_faults()

    # --- generation ------------------------------------------------------------------------
    def _generate(self) -> None:
        rng = random.Random(f"site:{self.seed}")
        when = NEWEST
        slugs: set[str] = set()
        n = self.n_articles
        undated_tail = max(2, n // 10)  # the oldest /reports/ articles have no _999
        html5_index = 5
        for i in range(n):
            when -= timedelta(minutes=rng.randint(90, 600))
            seed = f"{self.seed}:{i}"
            for attempt in range(50):
                title = (f"{rng.choice(TITLE_SUBJECTS)} {rng.choice(TITLE_ACTIONS)}{rng.choice(TITLE_TAILS)}"
                         + (f" - part {attempt - 7}" if attempt > 8 else ""))
                if slug(title) not in slugs:
                    break
            slugs.add(slug(title))
            agency = rng.choice(AGENCIES)
            r = rng.random()
            if agency == "SPX":
                byline = "Staff Writers" if r < 0.6 else (rng.choice(AUTHORS) if r < 0.8 else None)
            else:
                byline = rng.choice(AUTHORS) if r < 0.35 else ("Staff Writers" if r < 0.55 else None)
            afp_page = agency == "AFP" and rng.random() < 0.5
            if i >= n - undated_tail:
                path = f"/reports/{slug(title)}.html"
            elif afp_page:
                ident = "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(8))
                path = f"/afp/{when:%y%m%d%H%M%S}.{ident}.html"
            else:
                path = f"/reports/{slug(title)}_999.html"
            charset = "ascii"
            if i % 7 == 3:
                charset = "windows-1252" if (i // 7) % 2 == 0 else "iso-8859-1"
            art = Article(
                index=i, seed=seed, path=path, title=title, when=when, location=rng.choice(PLACES),
                agency=agency, byline=byline, section=rng.choice(SECTIONS),
                dateline_style="afp-dated" if agency == "AFP" and rng.random() < 0.4 else "plain",
                layout="html5" if i == html5_index else "legacy", charset=charset,
                paragraph_style=("open", "closed", "br")[i % 3],
                n_images=(0, 0, 1, 0, 1, 2, 1, 0)[i % 8],
            )
            if art.layout == "html5":
                art.charset = "utf-8"
                art.n_images = 0
                art.byline = rng.choice(AUTHORS)
            self.articles.append(art)
            self.by_path[path] = art

    def _decorate(self) -> None:
        """The clutter seed's site template, the repeating story paragraphs, the agency notices in the
        site's wording and (multi_story) the further stories; from rngs of their own, so the articles'
        metadata are the same as without clutter."""
        from tests.sites.replica.clutter import ClutterTemplate
        from tests.sites.replica.stories import choose_repeats, place_repeats, related_stories

        cs = self.clutter_seed
        self.clutter = ClutterTemplate(cs, self.n_articles, plain=self.plain_clutter)
        repeats = choose_repeats(random.Random(f"repeats:{cs}"))
        if self.instory_on:
            from tests.sites.replica.instory import InStory

            self.instory = InStory(cs, self.articles)
        titles = {a.title for a in self.articles}
        for art in self.articles:
            if art.layout != "legacy":
                art.related = [] if self.multi_story else None
                continue
            n_base = len(_paragraphs(art.seed, art.charset != "ascii"))
            art.inserts = place_repeats(random.Random(f"repeats:{cs}:{art.seed}"), repeats, art.agency, n_base)
            self.repeat_texts.update(text for _, text in art.inserts)
            art.custom_rights, art.rights_text = self.clutter.rights_for(art.agency, art.when.year)
            if self.instory is not None:
                extra = self.instory.inserts(art, n_base + len(art.inserts))
                art.inserts = art.inserts + tuple((i, t) for i, t, _ in extra)
                for _, text, kind in extra:
                    self.keep_texts.setdefault(kind, set()).add(text)
            if self.multi_story:
                rng = random.Random(f"related:{cs}:{art.seed}")
                art.related = related_stories(rng, art.when, titles) if rng.random() < self.clutter.related_share \
                    else []

    def _assign_faults(self) -> None:
        self.redirects: dict[str, str] = {}  # old path -> new path (301)
        self.withdrawn = "/reports/Story_withdrawn_by_publisher_999.html"
        self.dead_link = f"/reports/{SECTIONS[0].page}_briefing_removed_999.html"
        if not self.faults:
            return
        wanted = ["redirected", "flaky", "slow", "truncated"]
        for art in self.articles[1:]:
            if not wanted:
                break
            if art.layout != "legacy" or art.charset != "ascii":
                continue
            if wanted[0] == "redirected" and not art.path.endswith("_999.html"):
                continue
            art.fault = wanted.pop(0)
            if art.fault == "redirected":
                self.redirects[art.path[: -len("_999.html")] + "_old_999.html"] = art.path

    def _load_raw_pages(self, root: Path) -> None:
        files = sorted((root / "samples").glob("article-*.html")) + sorted((root / "pages").glob("*.html"))
        for html in files:
            exp_path = html.with_name(html.stem + ".expected.json")
            if not exp_path.exists():
                continue
            try:
                expected = json.loads(exp_path.read_text("utf-8"))
            except ValueError:
                continue
            body = html.read_bytes()
            m = re.search(rb'<meta property="og:url" content="https://www\.spacewar\.com(/[^"?#]*)"', body)
            url = expected.get("url") if isinstance(expected, dict) else None
            if m:
                path = m.group(1).decode("ascii", "replace")
            elif isinstance(url, str) and url.startswith(BASE_URL + "/"):
                path = url[len(BASE_URL):]
            else:
                continue
            if not (isinstance(url, str) and url.startswith(BASE_URL + "/")):
                continue  # only pages whose expected item names a URL on the site
            if path in self.by_path or path in self.raw_pages:
                continue
            is_article = "title" in expected or "body" in expected
            exp = dict(expected) if is_article else None
            if exp and any(not isinstance(i, dict) or "url" not in i for i in exp.get("images") or []):
                del exp["images"]  # a hand-written expectation without image URLs cannot be compared
            self.raw_pages[path] = RawPage(path, body, exp, str(expected.get("title") or html.stem))

    # --- navigation ------------------------------------------------------------------------
    def archive_paths(self, section: Section) -> list[str]:
        """Older listing pages of a section, newest first: /news/<topic>-<yy><letters>.html."""
        arts = self.sections[section.page]
        out = []
        for k in range(1, (len(arts) + self.per_page - 1) // self.per_page):
            first = arts[k * self.per_page]
            out.append(f"/news/{section.topic}-{first.when:%y}{archive_letters(k, 2)}.html")
        return out

    def listing(self, section: Section, page_no: int) -> list[Article]:
        arts = self.sections[section.page]
        return arts[page_no * self.per_page:(page_no + 1) * self.per_page]

    def neighbour(self, a: Article, k: int) -> Article:
        """The article `k` places older than `a` (wrapping round to the newest): its page links to it."""
        return self.articles[(a.index + k) % len(self.articles)]

    def home_articles(self) -> list[Article]:
        return self.articles[:30]

    def article_of(self, path: str) -> Article | None:
        return self.by_path.get(path)

    # --- changes --------------------------------------------------------------------------
    def edit_article(self, url: str, body_suffix: str) -> None:
        """An editor's correction: `body_suffix` becomes a new last paragraph of the article at `url`."""
        path = "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0].split("#")[0]
        art = self.by_path.get(path)
        if art is not None:
            art.edits.append(body_suffix)
            art.modified = datetime.now(timezone.utc).replace(microsecond=0)
        elif path in self.raw_pages:
            self.raw_pages[path].edits.append(body_suffix)
        else:
            raise KeyError(url)
        self.version += 1

    # --- what a correct crawl exports ------------------------------------------------------
    def expected_items(self) -> list[dict]:
        out = [a.expected() for a in self.articles if a.fault != "truncated"]
        for page in self.raw_pages.values():
            if page.expected is not None:
                exp = dict(page.expected)
                if page.edits and "body" in exp:
                    exp["body"] = "\n\n".join([exp["body"], *page.edits])
                out.append(exp)
        return out

    def disallowed_paths(self) -> list[str]:
        return list(DISALLOWED)
