"""The `quizgen import` command (registered in cli.py): parse options, call `import_file`, print the report."""

from __future__ import annotations

import click

from ..errors import QuizgenError
from ..validate import LANG_RE

EPILOG = """\b
Examples:
  quizgen import vocab.csv --into my-course --source textbook-ch1
  quizgen import old-deck.apkg --into my-course
  quizgen import set.txt --into my-course --deck "Biology::Cells" --lang en
"""


@click.command("import", epilog=EPILOG)
@click.argument("source", type=click.Path(dir_okay=False))
@click.option(
    "--into", "into", required=True, type=click.Path(file_okay=False), help="The project (created if missing)."
)
@click.option("--deck", help="Deck name (default: the file's name); for a package, import only this deck.")
@click.option("--file", "file", help="Fact file to write, e.g. decks/vocab.yaml (one deck only).")
@click.option("--source", "source_id", metavar="ID", help="Source id (in decks/sources.yaml) for facts without one.")
@click.option("--lang", help="Language of the imported text (default: language-neutral).")
@click.option("--force", is_flag=True, help="Replace fact files that already exist.")
def import_command(source, into, deck, file, source_id, lang, force):
    """Turn an Anki package, a spreadsheet or a Quizlet export into fact files.

    Reads .apkg/.colpkg (needs quizgen[anki]), .csv/.tsv/.xlsx (a header row,
    one fact per row) and .txt (Quizlet: term TAB definition).  Nothing is
    written unless every row is good; every problem is reported at its row.
    """
    from . import import_file

    if lang is not None and not LANG_RE.match(lang):
        raise click.BadParameter(f"{lang!r} is not a language code", param_hint="--lang")
    result = import_file(source, into, deck=deck, file=file, source_id=source_id, lang=lang, force=force)
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(
        f"imported {result.facts} fact{'s' if result.facts != 1 else ''} into {', '.join(result.files)}"
        + (" (new project)" if result.created_project else "")
    )
    if result.images:
        click.echo(f"copied {len(result.images)} image{'s' if len(result.images) != 1 else ''} into images/")
    if result.placeholder_facts:
        click.echo(
            f"{result.placeholder_facts} fact{'s' if result.placeholder_facts != 1 else ''} cite "
            f"{result.placeholder_source!r}, a source record made from the file name: give "
            "them their real source in decks/sources.yaml (every fact needs one)"
        )
    from ..project import load_project

    try:
        project = load_project(into)
    except QuizgenError as exc:
        raise QuizgenError("the import was written, but `quizgen check` fails on the project:", exc.problems) from None
    click.echo(f"check: ok ({len(project.facts)} facts in {len(project.files)} files)")
