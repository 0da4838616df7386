"""Print HTML pages to PDF with the Chromium-family browser the user already has.

Why a browser and not a PDF library: the pages are HTML proven in Chromium (tests print
them there), so the browser that shows them on screen is the one engine that prints them
with the same layout, the same fonts (Korean included, embedded as subsets) and real
pagination rules (`break-inside: avoid`, `@page` sizes and margin boxes).  Nothing to
install from PyPI: Chromium, Chrome, Edge or Brave from the system is enough.

Safety: each run gets a fresh temporary profile; every network request is refused
(a proxy that does not exist, a host resolver that resolves nothing, plus the pages'
own Content-Security-Policy); a run that takes longer than `timeout` seconds is killed
with its whole process group.  The sandbox stays on unless we run as root, where
Chromium refuses to start with it.

Reproducibility: Chromium's PDFs are deterministic except for /CreationDate and /ModDate
in the document information dictionary.  `fix_dates` sets both to SOURCE_DATE_EPOCH or
removes them, in place and at the same length, so the cross-reference offsets stay valid.
What still varies between machines: the browser version (in /Creator and /Producer) and
anything a different browser version or font set lays out differently.

This module is shared: the PDF writer and the answer-sheet writer both print through it.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV_VAR = "QUIZGEN_BROWSER"
TIMEOUT = 120  # seconds per page: a big paper prints in a few seconds, a hung browser never finishes

NAMES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "microsoft-edge",
    "microsoft-edge-stable",
    "msedge",
    "brave-browser",
)
FOLDERS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    "/Applications/Brave Browser.app/Contents/MacOS/Brave Browser",
    "/snap/bin/chromium",
    "/usr/lib/chromium/chromium",
    "/opt/google/chrome/chrome",
    "/opt/microsoft/msedge/msedge",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
    r"C:\Program Files\Microsoft\Edge\Application\msedge.exe",
)

INSTALL = (
    "printing PDFs needs a Chromium-family browser (Chromium, Google Chrome or Microsoft Edge) and none was found; "
    "install one (Debian/Ubuntu: apt-get install chromium; macOS: brew install --cask chromium; "
    "Windows: Edge is built in) or set QUIZGEN_BROWSER to its program file"
)

FLAGS = (
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-features=NetworkTimeServiceQuerying,Translate,MediaRouter,OptimizationHints",
    "--metrics-recording-only",
    "--mute-audio",
    # no network at all: every request goes to a proxy that is not there, and no name resolves
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--no-pdf-header-footer",
)


class EngineError(Exception):
    """The browser is missing, failed, or took too long; the message says which."""


def find_browser() -> str | None:
    """The browser to print with: $QUIZGEN_BROWSER, else the first Chromium-family browser on PATH or in the
    usual install folders."""
    chosen = os.environ.get(ENV_VAR, "").strip()
    if chosen:
        found = shutil.which(chosen) or (chosen if os.path.isfile(chosen) and os.access(chosen, os.X_OK) else None)
        return found
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    for path in FOLDERS:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def unavailable() -> str | None:
    """None when PDFs can be printed here, else what to install (or what QUIZGEN_BROWSER got wrong)."""
    chosen = os.environ.get(ENV_VAR, "").strip()
    if find_browser() is not None:
        return None
    if chosen:
        return f"{ENV_VAR}={chosen!r} is not a program that can be run; point it at Chromium, Chrome or Edge"
    return INSTALL


def pdf_date(epoch: int) -> bytes:
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    return moment.strftime("D:%Y%m%d%H%M%S+00'00'").encode("ascii")


_DATE = re.compile(rb"/(CreationDate|ModDate) \((D:[0-9]{14}[^()]{0,12})\)")


def fix_dates(data: bytes, epoch: int | None) -> bytes:
    """Set the PDF's dates to `epoch`, or blank them out when there is none, without moving a byte.

    Replacements have the same length as what they replace, so the xref table stays right."""

    def replace(m: re.Match) -> bytes:
        whole = m.group(0)
        if epoch is None:
            return b" " * len(whole)  # the entry is gone; whitespace between dictionary entries is fine
        date = pdf_date(epoch)
        old = m.group(2)
        if len(date) == len(old):
            return whole.replace(old, date)
        return b" " * len(whole)

    return _DATE.sub(replace, data)


def _kill(proc: subprocess.Popen) -> None:
    try:
        if sys.platform != "win32":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except OSError:
        pass


def print_pdf(browser: str, html: str, pdf: str, profile: str, timeout: float = TIMEOUT) -> None:
    """Print one HTML file to `pdf` (the page's own @page size and margins decide the paper)."""
    args = [browser, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium will not start its sandbox as root
    args.append(Path(html).resolve().as_uri())
    try:
        proc = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=sys.platform != "win32",
        )
    except OSError as exc:
        raise EngineError(f"cannot start {browser}: {exc.strerror}") from None
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        raise EngineError(f"{browser} took longer than {timeout:.0f} s to print {os.path.basename(html)}") from None
    finally:
        _kill(proc)  # helpers the browser left behind
    if proc.returncode != 0 or not os.path.isfile(pdf) or os.path.getsize(pdf) == 0:
        tail = (err or b"").decode("utf-8", "replace").strip().splitlines()[-3:]
        raise EngineError(f"{browser} could not print {os.path.basename(html)}: {' '.join(tail) or 'no PDF written'}")


def page_count(pdf: bytes) -> int:
    """Pages in a PDF as Chromium writes it (one /Type /Page object each)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", pdf))


class Session:
    """One private workspace (a temporary folder and browser profile) for printing several pages.

    `identity` names the browser build, so a cache of PDFs can tell when the browser changed."""

    def __init__(self, browser: str | None = None, epoch: int | None = None, timeout: float = TIMEOUT):
        self.browser = browser or find_browser()
        if self.browser is None:
            raise EngineError(unavailable() or INSTALL)
        self.epoch = epoch
        self.timeout = timeout
        st = os.stat(self.browser)
        self.identity = f"{os.path.realpath(self.browser)}:{st.st_size}:{st.st_mtime_ns}"
        self.seconds: list[float] = []  # per printed page, for the build's report
        self.pages = 0
        self._dir: tempfile.TemporaryDirectory | None = None
        self._n = 0

    def __enter__(self) -> Session:
        self._dir = tempfile.TemporaryDirectory(prefix="quizgen-pdf-")
        return self

    def __exit__(self, *exc) -> None:
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def print(self, html: bytes) -> bytes:
        """The PDF of one self-contained HTML page, with its dates fixed (see `fix_dates`)."""
        assert self._dir is not None, "use Session as a context manager"
        work = self._dir.name
        self._n += 1
        page = os.path.join(work, f"page-{self._n}.html")
        pdf = os.path.join(work, f"page-{self._n}.pdf")
        with open(page, "wb") as fh:
            fh.write(html)
        started = time.perf_counter()
        print_pdf(self.browser, page, pdf, os.path.join(work, "profile"), self.timeout)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        with open(pdf, "rb") as fh:
            data = fix_dates(fh.read(), self.epoch)
        os.remove(page)
        os.remove(pdf)
        n = max(1, page_count(data))
        self.pages += n
        self.seconds.extend([elapsed / n] * n)
        return data
