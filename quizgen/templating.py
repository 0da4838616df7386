"""Jinja2 for quizgen's pages, safe against a shared course's own templates.

A project may override any shipped template or stylesheet by putting a file of the same
name in its `templates/` folder.  A course shared by someone else is untrusted input, so:

- every template is rendered in Jinja2's `ImmutableSandboxedEnvironment` (no attribute
  access to Python internals, no calling methods that change data), with autoescaping on;
- `*` and `**` in a template cannot build huge values, `range()` is bounded by the
  sandbox, and rendering with project templates runs under a time limit, so a template
  cannot hang or exhaust the build;
- a template or stylesheet is read only when it resolves inside the project: a link in
  `templates/` that points elsewhere (or a `templates/` that is itself such a link) is
  refused with a located message;
- syntax errors and undefined names become `templates/NAME:LINE: message` problems
  (exit 1), never an internal error.

Stylesheets: `quiz.css` replaces the shipped one (the build warns, since one rule then
wipes out all shipped styling); `extra.css` is added after the shipped stylesheet, which
is what most people want.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from .errors import Problem, QuizgenError
from .loader import inside
from .resources import SHIPPED

TEMPLATES_DIR = "templates"
MAX_TEMPLATE_BYTES = 1_000_000
MAX_VALUE = 1_000_000  # the longest string or sequence a template's * may build, and the largest ** result
RENDER_SECONDS = 30  # per page, only when the project supplies templates


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(left, (int, float)) and isinstance(right, (int, float)) and abs(right) > 64:
                raise jinja2.sandbox.SecurityError("exponent too large")
            return left**right
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_VALUE:
                raise jinja2.sandbox.SecurityError("value too large")
        return left * right


class _ProjectLoader(jinja2.FileSystemLoader):
    """FileSystemLoader that refuses files resolving outside the project, and huge files."""

    def __init__(self, searchpath, root: str | None):
        super().__init__(searchpath)
        self.root = root

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        if self.root and not filename.startswith(SHIPPED + os.sep):
            rel = os.path.relpath(filename, self.root).replace(os.sep, "/")
            if not inside(self.root, filename):
                raise QuizgenError(
                    "template refused",
                    [Problem(rel, 0, "is a link to a file outside the project; refusing to read it")],
                )
            if len(source.encode("utf-8")) > MAX_TEMPLATE_BYTES:
                raise QuizgenError("template refused", [Problem(rel, 0, "template is larger than 1 MB")])
        return source, filename, uptodate


def project_templates(root: str | None) -> str | None:
    """The project's templates/ folder, or None; refused when it leads outside the project."""
    if not root:
        return None
    own = os.path.join(root, TEMPLATES_DIR)
    if not os.path.isdir(own):
        return None
    if not inside(root, own):
        raise QuizgenError(
            "template refused",
            [Problem(TEMPLATES_DIR, 0, "is a link to a folder outside the project; refusing to read it")],
        )
    return own


def environment(root: str | None) -> jinja2.Environment:
    """The one Jinja2 environment of a build: project templates first, then the shipped ones."""
    own = project_templates(root)
    # Only a project's own templates are untrusted; the shipped ones render without the sandbox's
    # per-attribute checks (about a third of the HTML time at 100,000 facts).
    cls = _Sandbox if own else jinja2.Environment
    env = cls(
        loader=_ProjectLoader(([own] if own else []) + [SHIPPED], root),
        autoescape=True,  # every template, whatever its extension: fact text is data
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["_quizgen_project_templates"] = bool(own)
    env.quizgen_root = root  # type: ignore[attr-defined]
    return env


def _rel(env: jinja2.Environment, filename: str | None, name: str) -> str:
    root = getattr(env, "quizgen_root", None)
    if filename and root and not filename.startswith(SHIPPED + os.sep):
        return os.path.relpath(filename, root).replace(os.sep, "/")
    return f"{TEMPLATES_DIR}/{name}" if name else TEMPLATES_DIR


def _template_line(exc: BaseException) -> tuple[str | None, int]:
    """The template file and line an error was raised at (Jinja maps its frames to template lines)."""
    found: tuple[str | None, int] = (None, 0)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".j2", ".html", ".css")):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


@contextmanager
def _time_limit(seconds: int, enabled: bool):
    usable = enabled and threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    if not usable:
        yield
        return

    def expired(signum, frame):
        raise TimeoutError(f"rendering took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def render(env: jinja2.Environment, name: str, **context) -> str:
    """Render one template; every failure becomes a located problem (exit 1)."""
    limited = bool(env.globals.get("_quizgen_project_templates"))
    try:
        with _time_limit(RENDER_SECONDS, limited):
            return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        where = _rel(env, exc.filename, exc.name or name)
        problem = Problem(where, exc.lineno or 0, f"template syntax error: {exc.message}")
    except jinja2.TemplateNotFound as exc:
        problem = Problem(_rel(env, None, name), 0, f"template {exc.name!r} not found (included from {name})")
    except (jinja2.UndefinedError, jinja2.sandbox.SecurityError, TimeoutError, TypeError, ValueError) as exc:
        filename, line = _template_line(exc)
        what = "not allowed in a template" if isinstance(exc, jinja2.sandbox.SecurityError) else "template error"
        problem = Problem(_rel(env, filename, name), line, f"{what}: {exc}")
    except RecursionError:
        problem = Problem(_rel(env, None, name), 0, "template error: templates include or call themselves too deeply")
    raise QuizgenError("a template could not be rendered", [problem])


def stylesheet(env: jinja2.Environment, name: str = "quiz.css") -> tuple[Markup, list[str]]:
    """The page CSS, safe inside <style>: `name` (project override first) then the project's extra.css.

    Returns the CSS and warnings (a project quiz.css replaces all shipped styling)."""
    loader: _ProjectLoader = env.loader  # type: ignore[assignment]
    source, filename, _ = loader.get_source(env, name)
    warnings = []
    if not filename.startswith(SHIPPED + os.sep):
        warnings.append(
            f"{_rel(env, filename, name)}: replaces the shipped stylesheet entirely; "
            f"to add rules to it instead, name your file templates/extra.css"
        )
    root = getattr(env, "quizgen_root", None)
    own = project_templates(root)
    if own and os.path.isfile(os.path.join(own, "extra.css")):
        extra, _, _ = loader.get_source(env, "extra.css")
        source = source + "\n/* templates/extra.css */\n" + extra
    # '</' cannot end a <style> element once written '<\/' (the same thing in CSS).
    return Markup(source.replace("</", "<\\/")), warnings


def copy_shipped(dest: str, force: bool = False) -> list[str]:
    """Copy the shipped templates and stylesheets into `dest` to start an override from them."""
    # anki-card.css is not overridable (every deck's notetype must be the same), so it is not offered.
    names = sorted(n for n in os.listdir(SHIPPED) if n.endswith((".j2", ".css")) and n != "anki-card.css")
    existing = [n for n in names if os.path.exists(os.path.join(dest, n))]
    if existing and not force:
        raise QuizgenError(f"{dest}: already has {', '.join(existing)}; not overwriting (use --force)")
    os.makedirs(dest, exist_ok=True)
    for name in names:
        with open(os.path.join(SHIPPED, name), "rb") as src, open(os.path.join(dest, name), "wb") as dst:
            dst.write(src.read())
    return names
