"""`quizgen serve`: a live preview of a project's cards and pages on 127.0.0.1.

The preview is a real build (the same `build_project` as `quizgen build`, cache
included) into a private temporary folder, so what it shows is what a build
writes; the project's own files are never written (not even quizgen.lock: the
preview's lock is never saved).  A watcher rebuilds on every saved file and each
open page reloads itself through a server-sent event.  While the project is
broken, every page shows its `path:line: message` problems instead of the last
good output.

Why watchfiles: its Rust core (the `notify` crate: inotify, FSEvents,
ReadDirectoryChangesW) batches the bursts of events an editor's save makes
(write, rename, chmod) into one change set after a quiet `step` (50 ms here),
and it stops promptly on an event, which a clean Ctrl-C needs.  watchdog would
need its own debouncing for the same.

Safety: the server binds 127.0.0.1 only; it answers only requests whose Host is
that address or `localhost` (so a web page cannot reach it through DNS
rebinding); it serves only the files the last build reported, after resolving
links inside the build folder, and 404 for everything else; its own pages run
one same-origin script, and cards are shown in sandboxed frames without scripts.
"""

from __future__ import annotations

import functools
import json
import mimetypes
import os
import secrets
import shutil
import signal
import tempfile
import threading
import time
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jinja2

from .build import build_project
from .errors import QuizgenError
from .lock import Lock
from .preview import Card, package_cards
from .project import find_root
from .resources import SHIPPED, read_shipped
from .writers import Options, registry

HOST = "127.0.0.1"
PHONE_WIDTH = 375  # CSS pixels of a common phone; the card CSS has a rule for narrow screens
# Left out of the preview unless asked for with --format: PDFs are printed by a browser (seconds per
# file), and the LMS exports are downloads, not pages; together they would double every rebuild.
SKIPPED_FORMATS = ("pdf", "gift", "moodle", "qti12", "qti21")
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src data:; "
    "frame-src 'self'; base-uri 'none'; form-action 'none'"
)
OUTPUT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
IGNORED_DIRS = ("dist", "schemas")


class PreviewLock(Lock):
    """Note times for the preview's packages; never written back to the project."""

    def save(self) -> None:
        pass


def default_formats() -> list[str]:
    return [name for name in registry() if name not in SKIPPED_FORMATS]


class Site:
    """The latest build, good or broken, with a stamp that changes on every rebuild."""

    def __init__(self, root: str, out: str, formats: list[str], echo=None):
        self.root, self.out, self.formats = root, out, formats
        self.echo = echo or (lambda message: None)
        self.changed = threading.Condition()
        self.token = secrets.token_hex(4)
        self.count = 0
        self.files: list[str] = []
        self.problems: list[str] | None = None  # None while the last build succeeded
        self.message = ""
        self.built_at = ""
        self.seconds = 0.0
        self.stopping = False
        self._cards: dict[str, list[Card]] = {}

    @property
    def stamp(self) -> str:
        return f"{self.token}-{self.count}"

    def rebuild(self) -> None:
        """Build now; a failure of any kind becomes the problems shown, never an exception."""
        start = time.monotonic()
        files, problems, message = self.files, None, ""
        try:
            options = Options(lock=PreviewLock.load(self.root, int(time.time())))
            files = build_project(self.root, self.out, self.formats, options).files
        except QuizgenError as exc:
            problems = [str(p) for p in exc.problems]
            message = exc.message
        except Exception as exc:  # a bug must not stop the preview: show it like a problem
            problems = []
            message = f"internal error: {type(exc).__name__}: {exc} (please report it)"
        with self.changed:
            self.files = sorted(files) if problems is None else self.files
            self.problems, self.message = problems, message
            self.seconds = time.monotonic() - start
            self.built_at = time.strftime("%H:%M:%S")
            self.count += 1
            self._cards = {}
            self.changed.notify_all()
        if problems is None:
            self.echo(f"built {len(self.files)} files in {self.seconds:.2f} s")
        else:
            for line in problems:
                self.echo(line)
            self.echo(message)

    def root_name(self) -> str:
        return os.path.basename(self.root.rstrip(os.sep)) or self.root

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()

    def output_path(self, rel: str) -> str | None:
        """The file for a request path, only if the last build wrote it and it resolves inside the output."""
        if rel not in self.files:
            return None
        base = os.path.realpath(self.out)
        full = os.path.realpath(os.path.join(base, rel))
        if not full.startswith(base + os.sep) or not os.path.isfile(full):
            return None
        return full

    def cards(self, package: str) -> list[Card]:
        with self.changed:
            if package not in self._cards:
                path = self.output_path(package)
                self._cards[package] = package_cards(path) if path else []
            return self._cards[package]


# ---------------------------------------------------------------------------------------
# pages


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """One environment for the server's life: its template is compiled once, not on every request."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(SHIPPED), autoescape=True, keep_trailing_newline=True)


def card_document(card: Card, side: str, night: bool) -> str:
    """One side of a card as Anki's reviewer lays it out: the notetype CSS, body classes `card cardN`."""
    classes = f"card card{card.ordinal + 1}" + (" nightMode night_mode" if night else "")
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{OUTPUT_CSP}">'
        f"<style>{card.css}</style></head>"
        f'<body class="{classes}"><div id="qa">{side}</div></body></html>'
    )


def deck_groups(cards: list[Card]) -> dict[str, list[Card]]:
    groups: dict[str, list[Card]] = {}
    for card in cards:
        groups.setdefault(card.deck, []).append(card)
    return dict(sorted(groups.items()))


class Handler(BaseHTTPRequestHandler):
    server_version = "quizgen"
    sys_version = ""

    @property
    def site(self) -> Site:
        return self.server.site  # type: ignore[attr-defined]

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass  # the terminal shows builds and problems, not every request

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head: bool = False):
        self.head = head
        port = self.server.server_address[1]
        if self.headers.get("Host", "") not in (f"{HOST}:{port}", f"localhost:{port}"):
            return self.send(HTTPStatus.FORBIDDEN, b"quizgen serve answers only http://127.0.0.1\n", "text/plain")
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        try:
            self.route(path)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, path: str) -> None:
        site = self.site
        if path == "/_quizgen/live.js":
            return self.send(HTTPStatus.OK, read_shipped("serve-live.js").encode(), "text/javascript")
        if path == "/_quizgen/events":
            return self.events()
        if path == "/_quizgen/status":
            with site.changed:
                status = {"stamp": site.stamp, "ok": site.problems is None, "problems": site.problems or []}
            return self.send(HTTPStatus.OK, json.dumps(status).encode(), "application/json")
        if path == "/":
            return self.page("index", site.root_name())
        if path.startswith("/cards/"):
            return self.cards_page(path[len("/cards/") :])
        if path.startswith("/view/"):
            rel = path[len("/view/") :]
            if site.problems is None and site.output_path(rel) is None:
                return self.not_found()
            return self.page("view", rel, raw="/out/" + urllib.parse.quote(rel))
        if path.startswith("/out/"):
            return self.output(path[len("/out/") :])
        return self.not_found()

    def output(self, rel: str) -> None:
        site = self.site
        if site.problems is not None:
            return self.page("problems", rel, status=HTTPStatus.SERVICE_UNAVAILABLE)
        full = site.output_path(rel)
        if full is None:
            return self.not_found()
        with open(full, "rb") as fh:
            body = fh.read()
        kind = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        if kind == "text/html" or kind.startswith("text/"):
            kind += "; charset=utf-8"
        extra = {"Content-Security-Policy": OUTPUT_CSP} if kind.startswith("text/html") else {}
        if rel.endswith(".apkg"):
            extra["Content-Disposition"] = f'attachment; filename="{os.path.basename(rel)}"'
        self.send(HTTPStatus.OK, body, kind, extra)

    def cards_page(self, rest: str) -> None:
        package, _, number = rest.rpartition("/")
        site = self.site
        if site.problems is None and (site.output_path(package) is None or not package.endswith(".apkg")):
            return self.not_found()
        groups = deck_groups(site.cards(package)) if site.problems is None else {}
        if site.problems is None and not (number.isdigit() and int(number) < len(groups)):
            return self.not_found()
        deck, cards = list(groups.items())[int(number)] if groups else ("", [])
        shown = []
        for card in cards:
            sides = [
                {"label": f"{side} · {mode}", "doc": card_document(card, html, mode == "night")}
                for mode in ("light", "night")
                for side, html in (("front", card.front), ("back", card.back))
            ]
            shown.append(
                {
                    "title": f"card {card.ordinal + 1}" if card.notetype.endswith("Cloze") else "",
                    "fact_id": card.fact_id,
                    "notetype": card.notetype,
                    "anchor": f"{card.fact_id}-{card.ordinal}",
                    "sides": sides,
                }
            )
        self.page("cards", deck or package, cards=shown)

    def page(self, page: str, heading: str, status=HTTPStatus.OK, **values) -> None:
        site = self.site
        with site.changed:
            problems, message, stamp, files = site.problems, site.message, site.stamp, list(site.files)
            state = f"built {site.built_at} in {site.seconds:.2f} s" if problems is None else "broken"
        context = {
            "page": page,
            "heading": heading,
            "project": site.root_name(),
            "version": stamp,
            "status": state,
            "problems": problems,
            "message": message,
            "phone_width": PHONE_WIDTH,
            "raw": values.pop("raw", ""),
            **values,
        }
        if page == "index" and problems is None:
            context.update(self.index_lists(files))
        body = environment().get_template("serve.html.j2").render(**context).encode("utf-8")
        self.send(status, body, "text/html; charset=utf-8", {"Content-Security-Policy": PAGE_CSP})

    def index_lists(self, files: list[str]) -> dict:
        packages = []
        for rel in files:
            if rel.endswith(".apkg"):
                groups = deck_groups(self.site.cards(rel))
                decks = [
                    {"name": name, "count": len(cards), "href": f"/cards/{urllib.parse.quote(rel)}/{i}"}
                    for i, (name, cards) in enumerate(groups.items())
                ]
                packages.append({"name": rel, "decks": decks})
        pages = [rel for rel in files if rel.endswith(".html")]
        others = [rel for rel in files if not rel.endswith(".html")]
        return {"packages": packages, "pages": pages, "others": others}

    def events(self) -> None:
        """Server-sent events: the build stamp now and after every rebuild (a comment every 15 s keeps it open)."""
        site = self.site
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = None
        try:
            while True:
                with site.changed:
                    site.changed.wait_for(lambda seen=seen: site.stopping or site.stamp != seen, timeout=15)
                    if site.stopping:
                        return
                    stamp = site.stamp
                self.wfile.write(f"data: {stamp}\n\n".encode() if stamp != seen else b": ping\n\n")
                self.wfile.flush()
                seen = stamp
        except (BrokenPipeError, ConnectionResetError, OSError):
            return

    def not_found(self) -> None:
        self.send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")

    def send(self, status, body: bytes, kind: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not getattr(self, "head", False):
            self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True  # an open event stream never holds up the exit
    allow_reuse_address = True

    def __init__(self, port: int, site: Site):
        super().__init__((HOST, port), Handler)
        self.site = site


# ---------------------------------------------------------------------------------------
# running


def watch_filter():
    import watchfiles

    class Filter(watchfiles.DefaultFilter):
        ignore_dirs = (*watchfiles.DefaultFilter.ignore_dirs, *IGNORED_DIRS)

    return Filter()


def watch(root: str, changed: threading.Event, stop: threading.Event) -> None:
    """Set `changed` after every batch of changes until `stop` is set."""
    import watchfiles

    for _ in watchfiles.watch(
        root, watch_filter=watch_filter(), stop_event=stop, step=50, rust_timeout=500, yield_on_timeout=False
    ):
        changed.set()


def serve(project: str, port: int, formats: list[str] | None = None, echo=print) -> None:
    """Build, then serve and rebuild on every change until Ctrl-C (SIGINT) or SIGTERM.

    Builds run in the main thread, where the template time limit (SIGALRM) works; the
    server and the watcher run in threads of their own."""
    try:
        import watchfiles  # noqa: F401
    except ImportError:
        raise QuizgenError("quizgen serve needs the watchfiles package: pip install watchfiles") from None
    root = find_root(project)
    tmp = tempfile.mkdtemp(prefix="quizgen-serve-")
    try:
        site = Site(root, os.path.join(tmp, "out"), formats or default_formats(), echo)
        site.rebuild()
        try:
            server = Server(port, site)
        except OSError as exc:
            raise QuizgenError(f"cannot listen on {HOST}:{port}: {exc.strerror}; try another --port") from None
        changed, stop = threading.Event(), threading.Event()
        threads = [
            threading.Thread(target=watch, args=(root, changed, stop), name="quizgen-watch", daemon=True),
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="quizgen-http", daemon=True
            ),
        ]
        for thread in threads:
            thread.start()
        previous = signal.signal(signal.SIGTERM, _interrupt)
        echo(f"serving {root} at http://{HOST}:{server.server_address[1]}/ (Ctrl-C to stop)")
        try:
            while True:
                if changed.wait(timeout=0.5):
                    changed.clear()
                    site.rebuild()
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            site.stop()
            # shutdown() waits for serve_forever to notice; bounded, in case Ctrl-C came before it started
            closer = threading.Thread(target=server.shutdown, daemon=True)
            closer.start()
            closer.join(timeout=2)
            server.server_close()
            for thread in threads:
                thread.join(timeout=5)
            signal.signal(signal.SIGTERM, previous)
        echo("stopped")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
