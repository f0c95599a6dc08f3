"""The replay tools the replay tests run, each where a developer or CI has it: pywb, ReplayWeb.page, Chromium.

    python3 -m tests.replay.tools install      # pywb and ReplayWeb.page into .replay-tools/ (user space)
    python3 -m tests.replay.tools status       # what is found where

* **pywb 2.10.0, in a virtualenv of its own** (`.replay-tools/pywb-venv`, or `PYWB_BIN`: a bin/ holding
  `wb-manager` and `wayback`). Every pywb from 2.8.3 to 2.10.0 pins `redis==2.10.6`, and the project's
  `distributed` extra needs `redis>=5`, so no pin lets pywb share the project's environment (pip
  falls back to pywb 2.8.0, whose `wayback` dies at import under redis 5).
* **ReplayWeb.page 2.5.3's static files** (`.replay-tools/replaywebpage-2.5.3/package`, or `RWP_DIR`):
  `npm pack replaywebpage@2.5.3`, unpacked. A plain `npm install` of it fails on a dependency version,
  and an unpinned `npm pack` has been seen to give an older release.
* **Chromium** from Debian (`apt-get install -y chromium`; or `CHROMIUM`), driven through Playwright
  (a test extra) with `executable_path`: Playwright downloads no browser.

`install` builds the first two when they are missing (pip and npm through their ordinary
configuration, three tries each); Chromium needs root, so `.ci/replay-tools` installs it with apt.
Tests ask `need(...)`: a missing tool skips the test with the reason and the command that installs
it, except in CI (CI=true), where it fails the test. Standard library only: runs with any python3.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("REPLAY_TOOLS_DIR") or REPO / ".replay-tools")
PYWB_VERSION = "2.10.0"
RWP_VERSION = "2.5.3"
INSTALL_HINT = "python3 -m tests.replay.tools install (Chromium: apt-get install -y chromium; both: bash .ci/replay-tools)"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# --- where each tool is -----------------------------------------------------------------------
def pywb_bin() -> Path | None:
    """bin/ of the environment holding pywb (wb-manager, wayback), or None."""
    candidates = [Path(os.environ["PYWB_BIN"])] if os.environ.get("PYWB_BIN") else []
    candidates.append(TOOLS / "pywb-venv" / "bin")
    for path in candidates:
        if (path / "wb-manager").is_file() and (path / "wayback").is_file():
            return path
    return None


def rwp_dir() -> Path | None:
    """ReplayWeb.page's unpacked npm package (index.html, ui.js, sw.js), or None."""
    candidates = [Path(os.environ["RWP_DIR"])] if os.environ.get("RWP_DIR") else []
    candidates.append(TOOLS / f"replaywebpage-{RWP_VERSION}" / "package")
    for path in candidates:
        if all((path / name).is_file() for name in ("index.html", "ui.js", "sw.js")):
            return path
    return None


def chromium() -> str | None:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"] if Path(os.environ["CHROMIUM"]).is_file() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/local/bin")
        if found:
            return found
    return None


def playwright_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not installed ({exc}); it comes with the test extras: pip install -e '.[test]'"
    return None


def missing(*tools: str) -> list[str]:
    """Why each of the named tools ("pywb", "rwp", "chromium", "playwright") cannot be used."""
    why = []
    if "pywb" in tools and pywb_bin() is None:
        why.append(f"pywb {PYWB_VERSION} not found (PYWB_BIN, or {TOOLS / 'pywb-venv'})")
    if "rwp" in tools and rwp_dir() is None:
        why.append(f"ReplayWeb.page {RWP_VERSION} not found (RWP_DIR, or {TOOLS / f'replaywebpage-{RWP_VERSION}'})")
    if "chromium" in tools and chromium() is None:
        why.append("Chromium not found (CHROMIUM, or chromium on PATH)")
    if "playwright" in tools:
        problem = playwright_missing()
        if problem:
            why.append(problem)
    return why


def need(*tools: str) -> None:
    """Skip the calling test when a tool is missing (fail in CI, which must have them all)."""
    import pytest

    why = missing(*tools)
    if not why:
        return
    message = "; ".join(why) + f". Install: {INSTALL_HINT}"
    if in_ci():
        pytest.fail("CI must have the replay tools: " + message, pytrace=False)
    pytest.skip(message)


# --- installing -------------------------------------------------------------------------------
def _run(cmd: list[str], tries: int = 3, **kw) -> None:
    for attempt in range(1, tries + 1):
        proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
        if proc.returncode == 0:
            return
        print(f"{' '.join(cmd[:3])} ... failed (try {attempt} of {tries}):\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}",
              file=sys.stderr)
        if attempt < tries:
            time.sleep(10)
    raise RuntimeError(f"failed {tries} times: {' '.join(cmd)}")


def install_pywb() -> Path:
    found = pywb_bin()
    if found is not None:
        return found
    venv = TOOLS / "pywb-venv"
    shutil.rmtree(venv, ignore_errors=True)
    TOOLS.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, "-m", "venv", str(venv)], tries=1)
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    _run([python, "-m", "pip", "install", "-q", f"pywb=={PYWB_VERSION}"])
    return venv / "bin"


def install_rwp() -> Path:
    found = rwp_dir()
    if found is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found (Debian: apt-get install -y npm)")
    where = TOOLS / f"replaywebpage-{RWP_VERSION}"
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    _run([npm, "pack", "--silent", f"replaywebpage@{RWP_VERSION}"], cwd=where)
    [tgz] = where.glob("replaywebpage-*.tgz")
    with tarfile.open(tgz) as tar:
        tar.extractall(where, filter="data")
    tgz.unlink()
    version = json.loads((where / "package" / "package.json").read_text())["version"]
    if version != RWP_VERSION:
        raise RuntimeError(f"npm gave ReplayWeb.page {version}, not {RWP_VERSION}")
    return where / "package"


def status() -> dict:
    return {"pywb": str(pywb_bin()), "rwp": str(rwp_dir()), "chromium": chromium(),
            "playwright": playwright_missing() or "ok"}


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "status"
    if command == "install":
        what = args[1:] or ["pywb", "rwp"]
        if "pywb" in what:
            print(f"pywb: {install_pywb()}")
        if "rwp" in what:
            print(f"ReplayWeb.page: {install_rwp()}")
        return 0
    if command == "status":
        for name, where in status().items():
            print(f"{name}: {where}")
        return 0 if not missing("pywb", "rwp", "chromium") else 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
