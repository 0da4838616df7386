"""The `quizgen` command: a thin click layer over the library functions.

Exit codes: 0 success, 1 invalid input (every problem is printed as
`path:line: message`), 2 usage error (click's own).  No traceback reaches a
user: QuizgenError is a ClickException, and anything unexpected is reported
in one line by `main` (set QUIZGEN_DEBUG=1 to see the traceback).
"""

from __future__ import annotations

import collections
import os
import shutil
import sys

import click

from . import __version__
from .build import build_project, resolve_formats
from .errors import QuizgenError
from .lint import RULES, lint
from .project import load_partial, load_project
from .quotes import check_quotes
from .validate import LANG_RE
from .writers import Options

EPILOG_BUILD = """\b
Examples:
  quizgen build                      # the project in this folder, every format, into ./dist
  quizgen build my-course --out out --format apkg
  quizgen build --format html --lang ko --forms 2 --seed midterm
"""


def warn_if_slow_yaml() -> None:
    """PyYAML without libyaml parses about ten times slower: say so rather than be slow in silence."""
    from . import loader

    if not loader.LIBYAML:
        click.echo(
            "quizgen: warning: PyYAML has no libyaml C extension here, so loading is about 10x slower; "
            "install libyaml (e.g. apt-get install libyaml-dev) and reinstall PyYAML",
            err=True,
        )


def progress_printer():
    """Progress on a terminal only; pipes and CI logs stay quiet."""
    if not sys.stderr.isatty():
        return None
    return lambda message: click.echo(f"quizgen: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="quizgen")
def cli():
    """Turn curated, sourced YAML facts into Anki decks and printable quizzes.

    \b
    A quiz project is a folder with decks/*.yaml (facts) and decks/sources.yaml.
    Start one with `quizgen init my-course`, then `quizgen check my-course`.
    """


@cli.command(epilog=EPILOG_BUILD)
@click.argument("project", default=".", type=click.Path(file_okay=False))
@click.option("--out", "out", type=click.Path(file_okay=False), help="Output folder (default: PROJECT/dist).")
@click.option(
    "--format", "formats", multiple=True, metavar="FORMAT", help="apkg, html or all (default all); repeat for several."
)
@click.option("--lang", default="both", show_default=True, help="HTML quiz language: a project language or 'both'.")
@click.option(
    "--forms", default=1, show_default=True, type=click.IntRange(1, 26), help="HTML: shuffled forms A, B, ..."
)
@click.option("--seed", default="quizgen", show_default=True, help="HTML: seed for shuffled forms.")
@click.option("--no-cache", is_flag=True, help="Ignore and rebuild the cache in OUT/.quizgen-cache.")
def build(project, out, formats, lang, forms, seed, no_cache):
    """Validate PROJECT and write its decks and quizzes into --out.

    Nothing in --out changes unless the whole build succeeds.  Unchanged
    inputs are not rebuilt (the cache lives in OUT/.quizgen-cache).
    """
    if lang != "both" and not LANG_RE.match(lang):
        raise click.BadParameter(f"{lang!r} is not a language code", param_hint="--lang")
    try:
        resolve_formats(formats)
    except QuizgenError as exc:  # a misspelt format is a usage error (exit 2), not bad input
        raise click.BadParameter(exc.message, param_hint="--format") from None
    warn_if_slow_yaml()
    out = out or os.path.join(project, "dist")
    options = Options(lang=lang, forms=forms, seed=seed, progress=progress_printer())
    result = build_project(project, out, formats, options, use_cache=not no_cache)
    if result.up_to_date:
        click.echo(f"up to date: {len(result.files)} files in {out}")
    else:
        click.echo(f"built {result.facts} facts into {len(result.files)} files in {out}")


CHECK_HELP = (
    """Validate PROJECT and report every problem as path:line: message.

\b
Lint rules (silence one per fact with `lint: {ignore: [rule]}`,
or for the whole project under `lint: ignore:` in quizgen.yaml):
"""
    + "\n".join(f"  {name:<24} {text}" for name, text in RULES.items())
    + """

\b
Examples:
  quizgen check
  quizgen check my-course --quotes ../sources
  quizgen check --lint --strict
"""
)


@cli.command(help=CHECK_HELP)
@click.argument("project", default=".", type=click.Path(file_okay=False))
@click.option(
    "--quotes",
    "quotes_dir",
    type=click.Path(exists=True, file_okay=False),
    help="Folder with the sources' text copies: every quote must occur in its source's file.",
)
@click.option("--lint", "run_lint", is_flag=True, help="Also warn about questions that do not teach well.")
@click.option("--strict", is_flag=True, help="With --lint: treat warnings as errors (exit 1).")
def check(project, quotes_dir, run_lint, strict):
    # Every problem at once: the quotes and lint run over the facts that are valid even when
    # others are not, so a teacher fixes everything in one round.
    warn_if_slow_yaml()
    proj, problems = load_partial(project)
    if quotes_dir:
        problems += check_quotes(proj, quotes_dir)
    warnings = lint(proj) if run_lint else []
    if strict:
        problems += warnings
        warnings = []
    for warning in warnings:
        click.echo(str(warning), err=True)
    if problems:
        raise QuizgenError(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found", problems)
    tail = f", {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if run_lint else ""
    click.echo(f"ok: {len(proj.facts)} facts in {len(proj.files)} files, {len(proj.sources)} sources{tail}")


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
def init(directory):
    """Create a small working example project in DIRECTORY.

    \b
    Example:
      quizgen init my-course && quizgen build my-course
    """
    example = os.path.join(os.path.dirname(__file__), "example")
    if os.path.exists(os.path.join(directory, "decks")):
        raise QuizgenError(f"{directory} already has a decks/ folder; not overwriting it")
    for dirpath, _, filenames in os.walk(example):
        rel = os.path.relpath(dirpath, example)
        os.makedirs(os.path.join(directory, rel), exist_ok=True)
        for name in filenames:
            shutil.copyfile(os.path.join(dirpath, name), os.path.join(directory, rel, name))
    click.echo(f"created {directory}: edit {directory}/decks/*.yaml, then run 'quizgen build {directory}'")


@cli.command()
@click.argument("project", default=".", type=click.Path(file_okay=False))
def stats(project):
    """Count facts per deck, type, language and source.

    \b
    Example:
      quizgen stats my-course
    """
    proj = load_project(project)
    facts = proj.facts
    tables = {
        "deck": collections.Counter(f.deck for f in facts),
        "type": collections.Counter(f.type for f in facts),
        "language": collections.Counter(
            lang for f in facts for lang in proj.languages if all(t.get(lang) is not None for _, t in f.texts())
        ),
        "source": collections.Counter(f.source or "(none)" for f in facts),
        "with quote": collections.Counter("quote" if f.quote else "no quote" for f in facts),
    }
    click.echo(f"{len(facts)} facts in {len(proj.files)} files")
    for title, counter in tables.items():
        click.echo(f"\nfacts per {title}:" if title != "language" else "\nfacts complete in each language:")
        width = max(len(k) for k in counter) if counter else 0
        for key, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            click.echo(f"  {key:<{width}}  {count:>6}")


@cli.command()
@click.argument("project", default=".", type=click.Path(file_okay=False))
@click.option(
    "--against",
    required=True,
    metavar="OLD",
    help="An earlier build: an .apkg, a folder of them, or git:REV (the project at a git revision).",
)
@click.option(
    "--format",
    "style",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="markdown is ready for release notes; json is for scripts.",
)
def diff(project, against, style):
    """Show what importing the current build will change for a learner.

    Lists, per deck, facts added (new notes), changed (updated notes, with a
    word-level diff of each changed field), removed (left in the learner's
    collection) and moved, and warns about ids that look renamed.

    \b
    Examples:
      quizgen diff --against dist/deepseek.apkg
      quizgen diff --against git:v1.0 --format markdown > RELEASE-NOTES.md
    """
    from .diff import compare, project_snapshot, render, snapshot_of

    old = snapshot_of(project, against)
    result = compare(old, project_snapshot(load_project(project)))
    click.echo(render(result, style), nl=False)
    for warning in result.warnings if style == "json" else ():
        click.echo(f"warning: {warning}", err=True)


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="quizgen", standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # a bug, not bad input: one line, exit 3
        if os.environ.get("QUIZGEN_DEBUG"):
            raise
        click.echo(
            f"quizgen: internal error: {type(exc).__name__}: {exc} (set QUIZGEN_DEBUG=1 for details; please report it)",
            err=True,
        )
        sys.exit(3)


if __name__ == "__main__":
    main()
