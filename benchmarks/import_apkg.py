#!/usr/bin/env python3
"""How long `quizgen import` takes on a large Anki deck (needs the `anki` package: quizgen[anki]).

    python benchmarks/import_apkg.py [--notes N] [--runs R]

Makes, with the real Anki backend, a collection of N notes as a teacher's deck looks
(80% Basic with a little HTML and tags, 10% Basic (and reversed card), 10% Cloze; 20
subdecks; one image on every 100th note), exports it as a current .apkg, then times
`quizgen import` of it into a new project R times (each run in a fresh folder) and
prints the fastest and the median, with the time spent in the backend child
(unpacking the package and dumping its notes) and in `quizgen check` of the result.
Not a test: run it by hand (`make bench-import`) and compare runs on the same machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5e1d2f10000000049454e44ae426082"
)


def make_package(folder: str, notes: int) -> str:
    from anki.collection import AddNoteRequest, Collection, ExportAnkiPackageOptions

    os.makedirs(os.path.join(folder, "teacher"))
    col = Collection(os.path.join(folder, "teacher", "collection.anki2"))
    decks = [col.decks.id(f"Bench::Unit {i:02d}") for i in range(20)]
    kinds = {name: col.models.by_name(name) for name in ("Basic", "Basic (and reversed card)", "Cloze")}
    image = os.path.join(folder, "dot.png")
    with open(image, "wb") as fh:
        fh.write(PNG)
    image_name = col.media.add_file(image)
    requests = []
    for i in range(notes):
        kind = "Cloze" if i % 10 == 0 else "Basic (and reversed card)" if i % 10 == 1 else "Basic"
        note = col.new_note(kinds[kind])
        if kind == "Cloze":
            note["Text"] = f"Fact {i}: the {{{{c1::answer {i}}}}} is <b>important</b>"
        else:
            note["Front"] = f"<div>Question number {i}?</div><div>line two</div>"
            note["Back"] = f"Answer {i} &amp; more" + (f'<img src="{image_name}">' if i % 100 == 2 else "")
        note.tags = [f"unit{i % 20}", "bench"]
        requests.append(AddNoteRequest(note, decks[i % 20]))
    col.add_notes(requests)
    path = os.path.join(folder, "bench.apkg")
    options = ExportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False, with_media=True, legacy=False)
    col.export_anki_package(out_path=path, options=options, limit=None)
    col.close()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from quizgen.importers import apkg, import_file
    from quizgen.project import load_project

    backend_times: list[float] = []
    real_run_backend = apkg.run_backend

    def timed_backend(*a, **kw):
        start = time.perf_counter()
        try:
            return real_run_backend(*a, **kw)
        finally:
            backend_times.append(time.perf_counter() - start)

    apkg.run_backend = timed_backend
    with tempfile.TemporaryDirectory(prefix="quizgen-bench-import-") as folder:
        start = time.perf_counter()
        package = make_package(folder, args.notes)
        made = time.perf_counter() - start
        print(f"package: {args.notes:,} notes, {os.path.getsize(package) / 1e6:.1f} MB, made in {made:.1f} s")
        totals, checks = [], []
        for run in range(args.runs):
            target = os.path.join(folder, f"course-{run}")
            start = time.perf_counter()
            result = import_file(package, target)
            totals.append(time.perf_counter() - start)
            start = time.perf_counter()
            project = load_project(target)
            checks.append(time.perf_counter() - start)
            assert len(project.facts) == result.facts == args.notes, (len(project.facts), result.facts)
            shutil.rmtree(target)
        print(
            f"import: fastest {min(totals):.2f} s, median {statistics.median(totals):.2f} s "
            f"({args.notes / min(totals):,.0f} notes/s); of which the backend child "
            f"{min(backend_times):.2f} s; `quizgen check` of the result {min(checks):.2f} s"
        )
        print(f"report lines: {len(result.notes)}, files: {len(result.files)}, images: {len(result.images)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
