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
from .build import build_project, resolve_formats, update_lock
from .errors import Problem, QuizgenError
from .ids import new_project_id
from .importers.command import import_command
from .lint import RULES, lint
from .lock import LOCK_FILE
from .present import display_width
from .project import load_partial, load_project
from .quotes import check_quotes
from .schema import KINDS, add_modeline, render, write_schemas
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


def plural(n, word: str) -> str:
    return f"{n} {word}{'' if str(n) == '1' else 's'}"


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
@click.option(
    "--lang",
    default=None,
    help="Language on cards and quizzes: a project language or 'both' (default: quizgen.yaml's anki.lang for "
    "apkg, else both). One language writes <deck>-ko.apkg.",
)
@click.option(
    "--apkg",
    type=click.Choice(["per-deck", "one"]),
    default=None,
    help="One .apkg per top-level deck (default) or one for the whole project (or quizgen.yaml's anki.package).",
)
@click.option(
    "--forms", default=1, show_default=True, type=click.IntRange(1, 26), help="HTML: shuffled forms A, B, ..."
)
@click.option("--seed", default="quizgen", show_default=True, help="HTML: seed for shuffled forms.")
@click.option("--no-cache", is_flag=True, help="Ignore and rebuild the cache in OUT/.quizgen-cache.")
def build(project, out, formats, lang, apkg, forms, seed, no_cache):
    """Validate PROJECT and write its decks and quizzes into --out.

    Nothing in --out changes unless the whole build succeeds.  Unchanged
    inputs are not rebuilt (the cache lives in OUT/.quizgen-cache).
    """
    if lang is not None and lang != "both" and not LANG_RE.match(lang):
        raise click.BadParameter(f"{lang!r} is not a language code", param_hint="--lang")
    try:
        resolve_formats(formats)
    except QuizgenError as exc:  # a misspelt format is a usage error (exit 2), not bad input
        raise click.BadParameter(exc.message, param_hint="--format") from None
    source = click.get_current_context().get_parameter_source("seed")
    if source is not click.core.ParameterSource.DEFAULT and forms < 2:
        raise click.BadParameter(
            "--seed only shuffles forms; use it with --forms N (N of 2 or more)", param_hint="--seed"
        )
    warn_if_slow_yaml()
    out = out or os.path.join(project, "dist")
    options = Options(lang=lang, apkg=apkg, forms=forms, seed=seed, progress=progress_printer())
    result = build_project(
        project, out, formats, options, use_cache=not no_cache, notify=lambda m: click.echo(f"quizgen: {m}", err=True)
    )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
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
    quizzes = f", {len(proj.quizzes)} quiz{'zes' if len(proj.quizzes) != 1 else ''}" if proj.quizzes else ""
    click.echo(f"ok: {len(proj.facts)} facts in {len(proj.files)} files, {len(proj.sources)} sources{quizzes}{tail}")


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
    copied = []
    for dirpath, _, filenames in os.walk(example):
        rel = os.path.relpath(dirpath, example)
        os.makedirs(os.path.join(directory, rel), exist_ok=True)
        for name in filenames:
            shutil.copyfile(os.path.join(dirpath, name), os.path.join(directory, rel, name))
            copied.append(os.path.normpath(os.path.join(rel, name)).replace(os.sep, "/"))
    # The course's identity: random, written once, part of every card's GUID (see ids.py).
    config = os.path.join(directory, "quizgen.yaml")
    with open(config, encoding="utf-8") as fh:
        text = fh.read()
    with open(config, "w", encoding="utf-8") as fh:
        fh.write(f"id: {new_project_id()}   # this course's identity in learners' Anki: never change it\n{text}")
    gitignore = os.path.join(directory, ".gitignore")
    if not os.path.exists(gitignore):  # the build output and its cache never belong in git
        with open(gitignore, "w", encoding="utf-8") as fh:
            fh.write("dist/\n")
    write_schemas(directory)
    for rel in copied:  # last, so that the editor's schema line stays the first line
        add_modeline(os.path.join(directory, rel), rel)
    click.echo(f"created {directory}: edit {directory}/decks/*.yaml, then run 'quizgen build {directory}'")


@cli.command()
@click.argument("project", default=".", type=click.Path(file_okay=False))
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 when quizgen.lock is stale.")
def lock(project, check_only):
    """Bring quizgen.lock up to date with the facts, without building.

    A stale lock (facts edited, added or removed since it was written) makes
    fresh clones build different packages; `--check` is for CI and the
    pre-commit hook.

    \b
    Examples:
      quizgen lock && git add quizgen.lock
      quizgen lock --check
    """
    proj, state = update_lock(project, write=not check_only)
    new, changed, removed = state.differences()
    if not (new or changed or removed):
        click.echo(f"quizgen.lock is up to date ({len(state.entries)} notes)")
        return
    if not check_only:
        click.echo(f"quizgen.lock updated: {len(new)} new, {len(changed)} changed, {len(removed)} removed notes")
        return
    where = {f.id: f for f in proj.facts}
    problems = [Problem(where[i].path, where[i].line, f"fact {i!r} is not in quizgen.lock yet") for i in new]
    problems += [
        Problem(where[i].path, where[i].line, f"fact {i!r} changed since quizgen.lock was written") for i in changed
    ]
    problems += [Problem(LOCK_FILE, 0, f"fact {i!r} is in quizgen.lock but no longer in the decks") for i in removed]
    raise QuizgenError("quizgen.lock is stale: run 'quizgen lock' (or 'quizgen build') and commit it", problems)


@cli.command()
@click.option(
    "--copy", "dest", required=True, type=click.Path(file_okay=False), help="Folder to copy the shipped templates into."
)
@click.option("--force", is_flag=True, help="Overwrite files that are already there.")
def templates(dest, force):
    """Copy the shipped page templates and stylesheet, to start an override from them.

    \b
    Put the files you change into your project's templates/ folder (delete the rest).
    To only add CSS rules, write templates/extra.css instead: it is added after the
    shipped stylesheet, while a templates/quiz.css replaces it entirely.
    Example:
      quizgen templates --copy my-course/templates
    """
    from .templating import copy_shipped

    names = copy_shipped(dest, force)
    click.echo(f"copied {len(names)} files into {dest}: {', '.join(names)}")


@cli.command()
@click.argument("project", default=".", type=click.Path(file_okay=False))
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option(
    "--format",
    "formats",
    multiple=True,
    metavar="FORMAT",
    help="Formats to build (default: cards, pages and answer sheets; not pdf or LMS exports); 'all' for every one.",
)
def serve(project, port, formats):
    """Preview PROJECT live at http://127.0.0.1:PORT/ while you edit it.

    Shows every card as Anki renders it (front and back, light and night,
    phone width) and every page the build writes.  Saving a file rebuilds
    and reloads the open page; a broken file shows its problems instead.
    Builds go to a private temporary folder: the project is never written.

    \b
    Example:
      quizgen serve my-course --port 8001
    """
    from .serve import serve as run_server

    if formats:
        try:
            formats = resolve_formats(formats)
        except QuizgenError as exc:
            raise click.BadParameter(exc.message, param_hint="--format") from None
    run_server(project, port, list(formats) or None, echo=lambda message: click.echo(message, err=True))


@cli.command()
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default="facts",
    show_default=True,
    help="facts: decks/*.yaml; sources: decks/sources.yaml; config: quizgen.yaml; quiz: quizzes/*.yaml.",
)
def schema(kind):
    """Print the JSON Schema of one kind of quizgen file, for editors.

    yaml-language-server (VS Code's YAML extension and others) uses it for
    completion, hover help and squiggles; `quizgen init` writes all of them
    into the project's schemas/ folder.

    \b
    Example:
      quizgen schema --kind sources > schemas/sources.schema.json
    """
    click.echo(render(kind), nl=False)


@cli.command()
@click.argument("project", default=".", type=click.Path(file_okay=False))
def stats(project):
    """Count facts per deck, type, language and source.

    \b
    Example:
      quizgen stats my-course
    """
    proj = load_project(project, require_id=False)
    facts = proj.facts
    tables = {
        "deck": collections.Counter(f.deck for f in facts),
        "type": collections.Counter(f.type for f in facts),
        "language": collections.Counter(
            lang for f in facts for lang in proj.languages if all(t.get(lang) is not None for _, t in f.texts())
        ),
        # every cited source counts (a correction card counts for the article and for its evidence)
        "source": collections.Counter(
            sid for f in facts for sid in (dict.fromkeys(c.source for c in f.citations if c.source) or ("(none)",))
        ),
        "quote": collections.Counter(
            "with a quote" if any(c.quote for c in f.citations) else "without a quote" for f in facts
        ),
    }
    headings = {"language": "facts complete in each language:", "quote": "facts with and without a quote:"}
    click.echo(f"{len(facts)} facts in {len(proj.files)} files")
    for title, counter in tables.items():
        click.echo("\n" + headings.get(title, f"facts per {title}:"))
        width = max(display_width(k) for k in counter) if counter else 0
        for key, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            pad = " " * (width - display_width(key))  # Korean and other wide characters take two columns
            click.echo(f"  {key}{pad}  {count:>6}")
    if proj.quizzes:
        from .present import points_text
        from .quiz import assemble

        click.echo("\nquizzes:")
        width = max(len(q.path) for q in proj.quizzes)
        for quiz in proj.quizzes:
            form = assemble(proj, quiz)[0]
            n, forms, parts = len(form.questions), quiz.forms, len(quiz.sections)
            click.echo(
                f"  {quiz.path:<{width}}  {plural(n, 'question'):>13}  {plural(points_text(form.total), 'point'):>10}  "
                f"{plural(forms, 'form')}  ({plural(parts, 'section')})"
            )


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
    from .diff import compare, in_scope, project_snapshot, render, snapshot_of

    old, scope = snapshot_of(project, against)  # one package: only the top-level decks it holds
    result = compare(old, in_scope(project_snapshot(load_project(project, require_id=False)), scope))
    click.echo(render(result, style), nl=False)
    for warning in result.warnings if style == "json" else ():
        click.echo(f"warning: {warning}", err=True)


EPILOG_GRADE = """\b
Examples:
  quizgen grade --quiz midterm scans/ --out marks
  quizgen grade my-course --quiz midterm copier.pdf --out marks --fix marks/review.csv
"""


@cli.command(epilog=EPILOG_GRADE)
@click.argument("args", nargs=-1, required=True, metavar="[PROJECT] SCAN...")
@click.option("--quiz", "quiz_name", required=True, help="The quiz the sheets belong to (its file stem).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Folder for the results.")
@click.option(
    "--fix",
    type=click.Path(exists=True, dir_okay=False),
    help="review.csv with the teacher's decisions filled in: re-grade with them.",
)
def grade(args, quiz_name, out, fix):
    """Mark scanned answer sheets (PDF, PNG or JPEG files, or folders of them).

    Writes results.csv, review.csv (everything that needs a human: nothing is
    guessed), items.csv (item analysis) and report.html into --out, and warns
    about questions that look miskeyed, at the fact's path:line.
    """
    from .grade import grade_project

    project, scans = (".", list(args))
    if len(args) > 1 and os.path.isdir(os.path.join(args[0], "decks")):
        project, scans = args[0], list(args[1:])
    summary = grade_project(project, quiz_name, scans, out, fix)
    for warning in summary.warnings:
        click.echo(str(warning), err=True)
    click.echo(
        f"graded {summary.graded} of {summary.pages} pages ({summary.scored} scored), "
        f"{summary.review} to review; wrote {', '.join(summary.files)} in {out}"
    )


cli.add_command(import_command)  # quizgen/importers/command.py


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
