"""ReplayWeb.page in headless Chromium, offline, over one WACZ: the page list, a replayed page, a text search.

    with ReplayWebPage(wacz, rwp_dir, chromium) as rwp:
        rwp.page_list()              # [{"url", "ts", "title"}] as the Pages view lists them
        rwp.search("word")           # the URLs the Pages view lists for a search
        rwp.replay(url, ts)          # {"text", "images": [{"src", "current", "complete", "width", "height"}]}

ReplayWeb.page's static files and the WACZ are served from one origin on 127.0.0.1 by
tests/replay/rangeserver.py (the service worker reads the WACZ with Range requests). Chromium runs
with a fresh profile and offline: every host but 127.0.0.1 resolves to nothing and whatever is not
loopback goes to a dead proxy; every request the browser makes is logged (`outside_requests()`).
Playwright's request routing is not used: it stops ReplayWeb.page's service worker from working.
The replay frame is found through the app's shadow roots (Playwright's frame list misses it) and
read through contentDocument (same origin).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from tests.replay.rangeserver import RangeServer

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
    "--no-default-browser-check", "--metrics-recording-only", "--mute-audio",
    # offline: nothing but the local server can be reached. Loopback is never proxied; do not add
    # --proxy-bypass-list=<-loopback>, which removes that bypass and nothing loads
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
]

# the replay frame of `url`, through the shadow roots: its state, text and images
FRAME_JS = """(url) => {
    const frames = [];
    const walk = (root) => {
        for (const el of root.querySelectorAll('*')) {
            if (el.tagName === 'IFRAME') frames.push(el);
            if (el.shadowRoot) walk(el.shadowRoot);
        }
    };
    walk(document);
    let blank = null;
    for (const f of frames) {
        let href = '';
        try { href = f.contentWindow.location.href; } catch (e) { continue; }
        const src = f.getAttribute('src') || '';
        if (href === 'about:blank' && src.indexOf('mp_/') >= 0 && src.slice(src.indexOf('mp_/') + 4) === url)
            blank = {state: 'blank'};
        const i = href.indexOf('mp_/');
        if (i < 0 || href.slice(i + 4).split('#')[0] !== url) continue;
        const doc = f.contentDocument;
        if (!doc || doc.readyState !== 'complete') return {state: doc ? doc.readyState : 'none'};
        return {state: 'complete', text: doc.body ? doc.body.innerText : '',
                images: [...doc.images].map(i => ({src: i.getAttribute('src'), current: i.currentSrc,
                                                   complete: i.complete, width: i.naturalWidth,
                                                   height: i.naturalHeight}))};
    }
    return blank;
}"""
APP_TEXT_JS = """() => { const out = []; const walk = (root) => {
    for (const el of root.querySelectorAll('*')) { if (el.shadowRoot) walk(el.shadowRoot); }
    out.push(root.textContent || ''); }; walk(document); return out.join(' '); }"""


class ReplayWebPage:
    """ReplayWeb.page on the range server, in Chromium driven by Playwright; see the module docstring."""

    def __init__(self, wacz: Path, rwp_dir: Path, chromium: str):
        self.wacz = Path(wacz)
        self.server = RangeServer({"/": rwp_dir, "/archive/": self.wacz.parent})
        self.chromium = chromium
        self.requests: list[str] = []

    def __enter__(self):
        from playwright.sync_api import sync_playwright

        self.server.start()
        self._pw = sync_playwright().start()
        self._profile = tempfile.TemporaryDirectory(prefix="rwp-profile-")
        try:
            self.ctx = self._pw.chromium.launch_persistent_context(
                self._profile.name, executable_path=self.chromium, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900})
        except BaseException:
            self._pw.stop()
            self.server.stop()
            raise
        self.ctx.on("request", lambda r: self.requests.append(r.url))
        self.page = self.ctx.new_page()
        self.source = self.server.url("/archive/" + self.wacz.name)
        self.coll = "id-" + hashlib.sha256(self.source.encode()).hexdigest()[:12]  # as ReplayWeb.page names it
        self.app = self.server.url("/index.html") + "?source=" + self.source
        return self

    def __exit__(self, *exc):
        try:
            self.ctx.close()
        finally:
            self._pw.stop()
            self.server.stop()
            self._profile.cleanup()

    def outside_requests(self) -> list[str]:
        local = self.server.url("/")
        return [u for u in self.requests if not u.startswith((local, "data:", "blob:", "about:", "chrome"))]

    # --- the Pages view ----------------------------------------------------------------------
    def page_list(self, timeout: float = 120) -> list[dict]:
        """Open the Pages view and wait until its list stops growing; its entries."""
        self.page.goto(self.app + "#view=pages")
        deadline, last, stable_since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < deadline:
            count = self.page.locator("wr-page-entry").count()
            loaded = self.page.locator("wr-page-view").count() > 0
            if count != last:
                last, stable_since = count, time.monotonic()
            elif loaded and time.monotonic() - stable_since > (2 if count else 8):
                break
            time.sleep(0.3)
        return self.entries()

    def entries(self) -> list[dict]:
        return self.page.locator("wr-page-entry").evaluate_all(
            "els => els.map(e => e.page ? {url: e.page.url, ts: e.page.timestamp || '', title: e.page.title || ''}"
            " : null).filter(Boolean)")

    def search(self, word: str, settle: float = 1.5) -> list[str]:
        """Type `word` into the Pages view's search box ("Search by Page URL, Title, or Text")."""
        box = self.page.locator("input[placeholder^='Search by Page URL']")
        if not box.count():  # another view is open: back to the Pages view
            self.page_list()
        box.fill(word)
        box.press("Enter")
        time.sleep(settle)
        return [e["url"] for e in self.entries()]

    # --- replay -----------------------------------------------------------------------------
    def replay(self, url: str, ts: str = "", timeout: float = 30, blank_after: float = 6) -> dict:
        """Open `url` (at `ts`) in the replay view: {"frame", "text", "images", "blank"}."""
        self.page.goto(self.app + f"#view=replay&url={url}" + (f"&ts={ts}" if ts else ""))
        self.page.reload()  # the same document with a new hash: make the app start from it
        started = time.monotonic()
        while time.monotonic() < started + timeout:
            data = self.page.evaluate(FRAME_JS, url)
            if data and data.get("state") == "complete":
                deadline = time.monotonic() + 5  # images decode after load
                while time.monotonic() < deadline:
                    data = self.page.evaluate(FRAME_JS, url) or data
                    if all(i["complete"] for i in data.get("images", [])):
                        break
                    time.sleep(0.2)
                return {"frame": True, "blank": False, "text": " ".join(data["text"].split()),
                        "images": data.get("images", [])}
            if data and data.get("state") == "blank" and time.monotonic() - started > blank_after:
                return {"frame": True, "blank": True, "text": "", "images": []}  # no body to show (a 304)
            time.sleep(0.3)
        # no replay frame: a not-found message is rendered by the app itself
        return {"frame": False, "blank": False, "text": " ".join(self.page.evaluate(APP_TEXT_JS).split()),
                "images": []}

    def sw_fetch(self, path: str) -> tuple[int, str, str]:
        """Fetch a path of the app's origin through its service worker: (status, content type, text)."""
        return tuple(self.page.evaluate(
            "async (u) => { const r = await fetch(u); return [r.status, r.headers.get('content-type') || '',"
            " await r.text()]; }", path))


def shown(images: list[dict], url: str) -> dict | None:
    """The replayed <img> of archived image `url` that loaded (naturalWidth > 0), or None."""
    for image in images:
        if ((image.get("current") or "").endswith(url) or image.get("src") == url) and image["complete"] \
                and image["width"] > 0:
            return image
    return None


WORD = re.compile(r"[A-Za-z]{7,}")


def search_words(items: dict[str, dict]) -> dict[str, str]:
    """url -> the rarest word of its body that is in no title and no URL: a search for it can only
    find the article through its text."""
    bodies = {url: {w.lower() for w in WORD.findall(item["body"])} for url, item in items.items()}
    elsewhere = {w.lower() for url, item in items.items() for w in WORD.findall(item["title"] + " " + url)}
    df = defaultdict(int)
    for ws in bodies.values():
        for w in ws:
            df[w] += 1
    out = {}
    for url in sorted(items):
        candidates = sorted((df[w], w) for w in bodies[url] if w not in elsewhere)
        if candidates:
            out[url] = candidates[0][1]
    return out
