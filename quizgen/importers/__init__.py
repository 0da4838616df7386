"""The way in: `quizgen import` turns existing material into fact files that `quizgen check` accepts.

One module per kind of input, each a reader that produces drafts and located
problems and knows nothing about the project (`table` for CSV/TSV/XLSX,
`quizlet` for Quizlet's text export, `apkg` for Anki packages); `plan` gives
the drafts ids and sources, writes them with `yamltext`, validates them with
quizgen's own validator and publishes all or nothing.
"""

from __future__ import annotations

import os
import shutil

from ..errors import QuizgenError
from . import plan, quizlet, table

APKG_SUFFIXES = (".apkg", ".colpkg")


def reader_for(path: str):
    suffix = os.path.splitext(path)[1].lower()
    if suffix in APKG_SUFFIXES:
        from . import apkg  # needs the optional `anki` package; imported only for packages

        return apkg.read
    if suffix in table.SUFFIXES:
        return table.read
    if suffix in quizlet.SUFFIXES:
        return quizlet.read
    kinds = ", ".join(APKG_SUFFIXES + table.SUFFIXES + quizlet.SUFFIXES)
    raise QuizgenError(f"{path}: cannot tell what this file is from its name (import reads {kinds})")


def import_file(
    source: str,
    into: str,
    *,
    deck: str | None = None,
    file: str | None = None,
    source_id: str | None = None,
    lang: str | None = None,
    force: bool = False,
) -> plan.Result:
    """Import `source` into the project folder `into` (created when missing); raise QuizgenError on any problem."""
    if not os.path.isfile(source):
        raise QuizgenError(f"{source}: no such file")
    read = reader_for(source)
    root = os.path.abspath(into)
    config, _, exists = plan.project_state(root)
    languages = tuple(config["languages"]) if exists else None
    if lang is not None and languages is not None and lang not in languages:
        raise QuizgenError(f"--lang {lang!r}: not a language of this project ({', '.join(languages)})")
    rel_file = plan.check_file_option(file) if file is not None else None
    batch = plan.Batch()
    try:
        batch = read(source, os.path.basename(source), deck=deck, lang=lang, languages=languages)
        new_langs = (lang,) if lang and not exists and not batch.languages else None
        return plan.run(
            batch,
            root,
            display=os.path.basename(source),
            file=rel_file,
            source_id=source_id,
            force=force,
            languages=new_langs,
        )
    finally:
        for folder in batch.temp_dirs:
            shutil.rmtree(folder, ignore_errors=True)
