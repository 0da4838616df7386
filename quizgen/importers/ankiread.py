"""Child process: open an Anki package with the official backend and dump its notes as JSON.

Why a separate process: the package is untrusted, and the backend unpacks it
(zstd-compressed collection, media files) before we can look at anything.  The
parent runs this module with a time limit and a cap on the size of any file it
writes (RLIMIT_FSIZE), so a decompression bomb or a hang ends this process with a
clear message instead of filling the disk or blocking the import.

Usage: python -m quizgen.importers.ankiread PACKAGE WORKDIR  ->  WORKDIR/notes.json,
media in WORKDIR/collection.media.  Exit 0 on success; otherwise one line on stderr.
"""

from __future__ import annotations

import json
import os
import sys


def dump(package: str, workdir: str) -> dict:
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    col_path = os.path.join(workdir, "collection.anki2")
    if package.lower().endswith(".colpkg"):
        from anki._backend import RustBackend

        RustBackend().import_collection_package(
            col_path=col_path,
            backup_path=package,
            media_folder=os.path.join(workdir, "collection.media"),
            media_db=os.path.join(workdir, "collection.media.db2"),
        )
        col = Collection(col_path)
    else:
        col = Collection(col_path)
        for notetype in col.models.all_names_and_ids():  # a fresh collection's own notetypes would rename the
            col.models.remove(notetype.id)  # package's ('Basic' -> 'Basic+'); the package brings its own
        options = ImportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False, merge_notetypes=False)
        col.import_anki_package(ImportAnkiPackageRequest(package_path=package, options=options))
    try:
        notetypes = {}
        for nt in col.models.all():
            notetypes[str(nt["id"])] = {
                "name": nt["name"],
                "cloze": nt["type"] == 1,
                "stock": nt.get("originalStockKind", 0),
                "fields": [f["name"] for f in nt["flds"]],
                "templates": [t["qfmt"] for t in nt["tmpls"]],
            }
        decks = {str(d.id): d.name for d in col.decks.all_names_and_ids()}
        notes = col.db.all("SELECT id, guid, mid, tags, flds FROM notes ORDER BY id")
        cards = col.db.all("SELECT nid, ord, did FROM cards ORDER BY nid, ord")
        media = col.media.dir()
    finally:
        col.close()
    return {
        "notetypes": notetypes,
        "decks": decks,
        "notes": [[nid, guid, str(mid), tags, flds.split("\x1f")] for nid, guid, mid, tags, flds in notes],
        "cards": cards,
        "media": media,
    }


def main(argv: list[str]) -> int:
    package, workdir = argv
    try:
        result = dump(os.path.abspath(package), os.path.abspath(workdir))
    except Exception as exc:  # the backend's errors for a damaged package: report, never a traceback
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"{type(exc).__name__}: {message}", file=sys.stderr)
        return 2
    with open(os.path.join(workdir, "notes.json"), "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
