"""Trust on the build side: the cache runs no code and serves no wrong entry, publishing is atomic,
and hostile files in OUT or given to diff fail cleanly (issue 11)."""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import run, write_project

from quizgen.cache import DIRNAME, Cache
from quizgen.model import Citation, Fact, FactFile, Text, pack_lines

QUIZGEN = Path(sys.executable).parent / "quizgen"


def two_file_project(root: Path) -> Path:
    files = {}
    for name in ("a", "b"):
        files[f"decks/{name}.yaml"] = f'deck: "Course::{name.upper()}"\nfacts:\n' + "".join(
            f"  - id: {name}-{k}\n    question: {{ko: 질문 {name}{k}, en: Question {name}{k}}}\n"
            f"    answer: {{ko: 답 {name}{k}, en: Answer {name}{k}}}\n    source: src\n"
            for k in range(3)
        )
    return write_project(root, files)


def build(root, out, *extra, code=0):
    result = run("build", root, "--out", out, *extra)
    assert result.exit_code == code, result.output
    return result


def entries(out: Path) -> list[Path]:
    return sorted(p for p in (out / DIRNAME).rglob("*") if p.is_file() and p.name != "manifest.json")


def cold_package(tmp_path: Path, root: Path) -> bytes:
    cold = tmp_path / "cold"
    build(root, cold, "--format", "apkg", "--no-cache")
    return (cold / "course.apkg").read_bytes()


def forget_manifest(out: Path) -> None:
    """Make the next build read every entry (no no-op shortcut)."""
    for p in (out / DIRNAME).glob("manifest*"):
        p.unlink()


# ---------------------------------------------------------------------------------------
# the cache: plain data, key-bound, authenticated, typed


class _Marker:
    """A pickle that creates a file when loaded: proof that loading ran code."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_planted_pickle_never_runs(tmp_path):
    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, "--format", "apkg")
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Marker(str(marker)))
    import hashlib

    for entry in entries(out):  # whatever the format, every entry now holds a "checksummed" pickle
        entry.write_bytes(hashlib.sha256(payload).digest() + payload)
        entry.with_suffix(".pickle").write_bytes(hashlib.sha256(payload).digest() + payload)
    forget_manifest(out)
    build(root, out, "--format", "apkg")
    assert not marker.exists()
    assert (out / "course.apkg").read_bytes() == cold_package(tmp_path, root)


def test_an_entry_copied_under_another_key_is_a_miss(tmp_path):
    (tmp_path / "out").mkdir()
    cache = Cache(str(tmp_path / "out"))
    k1, k2 = "1" * 64, "2" * 64
    cache.put(k1, ["genuine", "value"])
    cache.commit({})
    path1, path2 = Path(cache._path(k1)), Path(cache._path(k2))
    path2.parent.mkdir(parents=True, exist_ok=True)
    path2.write_bytes(path1.read_bytes())
    fresh = Cache(str(tmp_path / "out"))
    assert fresh.get(k1) == ["genuine", "value"]
    assert fresh.get(k2) is None


def test_swapped_entries_never_reach_the_output(tmp_path):
    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, "--format", "apkg")
    found = entries(out)
    data = [p.read_bytes() for p in found]
    for path, content in zip(found, data[1:] + data[:1]):  # every entry now holds another's genuine bytes
        path.write_bytes(content)
    forget_manifest(out)
    build(root, out, "--format", "apkg")
    assert (out / "course.apkg").read_bytes() == cold_package(tmp_path, root)


def test_a_cache_made_with_another_secret_is_not_believed(tmp_path, monkeypatch):
    from quizgen.build import build_project
    from quizgen.writers import Options

    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-a"))
    build_project(str(root), str(out), ["apkg"], Options())
    forget_manifest(out)
    again = build_project(str(root), str(out), ["apkg"], Options())
    assert again.stats["cache hits"] > 0  # the same user's cache works
    forget_manifest(out)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-b"))  # someone else's cache: all misses
    other = build_project(str(root), str(out), ["apkg"], Options())
    assert other.stats["cache hits"] == 0
    key = tmp_path / "home-b" / "quizgen" / "cache-key"
    assert key.stat().st_mode & 0o777 == 0o600


ODD_VALUES = [None, 0, -1, 10**30, 1.5, "text", [], {}, [[]], [1, 2], {"deck": 1}, [["a", "b"], "x"], True, [None] * 4]


def test_wrong_typed_entries_and_manifest_are_misses(tmp_path):
    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, "--format", "all")
    keys = [p.stem for p in entries(out)]
    for i, odd in enumerate(ODD_VALUES):
        cache = Cache(str(out))  # genuine, authenticated entries whose contents are simply wrong
        for key in keys:
            cache.put(key, odd)
        manifest = {"inputs": odd, "outputs": odd, "images": odd, "facts": odd}
        if i % 2:
            manifest = {"inputs": "0" * 64, "outputs": {"../../etc/passwd": "x", "a": 1}, "images": [5], "facts": -1}
        cache.commit(manifest)
        build(root, out, "--format", "all")
    assert (out / "course.apkg").read_bytes() == cold_package(tmp_path, root)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_and_dev_zero_in_the_cache_do_not_hang(tmp_path):
    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, "--format", "apkg")
    found = entries(out)
    for i, entry in enumerate(found):
        entry.unlink()
        if i % 2:
            os.mkfifo(entry)
        else:
            entry.symlink_to("/dev/zero")
    manifest = out / DIRNAME / "manifest.json"
    manifest.unlink()
    os.mkfifo(manifest)
    proc = subprocess.run(
        [str(QUIZGEN), "build", str(root), "--out", str(out), "--format", "apkg"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "course.apkg").read_bytes() == cold_package(tmp_path, root)


# ---------------------------------------------------------------------------------------
# the plain-data converters


def full_fact_file() -> FactFile:
    """A FactFile with every field of every dataclass set to something other than its default."""
    t = Text((("ko", "질문"), ("en", "Question")))
    fact = Fact(
        id="x-1",
        type="choice",
        deck="D::E",
        path="decks/x.yaml",
        line=3,
        question=t,
        answer=Text((("", "neutral"),)),
        wrong=(Text((("en", "w1"),)), Text((("en", "w2"),))),
        options=(Text((("en", "o1"),)), Text((("en", "o2"),))),
        shuffle=True,
        reverse=True,
        points=2.5,
        cite=(Citation("src", "q", "claim", 4), Citation("src2")),
        text=Text((("en", "{{c1::a}}"),)),
        statement=Text((("en", "s"),)),
        truth=False,
        explanation=Text((("ko", "설명"),)),
        source="src",
        quote="q",
        tags=("t1", "t2"),
        image="img/a.png",
        anki_guid="f]K3#b9x!Q",
        lint_ignore=("rule",),
        lines=pack_lines({"id": 3, "question": 4}),
    )
    defaults = {f.name: f.default for f in dataclasses.fields(Fact)}
    unset = [
        name for name, value in defaults.items() if value is not dataclasses.MISSING and getattr(fact, name) == value
    ]
    assert not unset, f"set these new Fact fields in full_fact_file(): {unset}"
    values = {"path": "decks/x.yaml", "deck": "D::E", "tags": ("t1",), "facts": (fact, fact)}
    for f in dataclasses.fields(FactFile):  # fields added later (e.g. lines, rejected ids) get a non-default
        if f.name not in values:
            values[f.name] = {
                "int": 7,
                "str": "s",
                "tuple[tuple[str, int], ...]": (("bad-id", 9),),
                "Text | None": Text((("ko", "설명"), ("en", "about"))),
            }[f.type]
    return FactFile(**values)


def as_json(value):
    import json

    from quizgen.plain import plain_leaf

    return json.loads(json.dumps(value, default=plain_leaf))


def test_fact_file_round_trips_through_plain_json():
    from quizgen.plain import fact_file_from_plain, fact_file_to_plain

    ff = full_fact_file()
    assert fact_file_from_plain(as_json(fact_file_to_plain(ff))) == ff


def mutations(value):
    """Every way of replacing one value somewhere inside `value` with a wrongly typed one."""
    odd = [None, 1, -(2**70), 1.5, True, "s", [], {}, ["a"], [1, 2]]
    if isinstance(value, list):
        for i, item in enumerate(value):
            for o in odd:
                if o != item or type(o) is not type(item):
                    yield value[:i] + [o] + value[i + 1 :]
            for m in mutations(item):
                yield value[:i] + [m] + value[i + 1 :]


def test_every_wrongly_typed_value_is_invalid_never_a_crash():
    from quizgen.plain import Invalid, fact_file_from_plain, fact_file_to_plain

    plain = as_json(fact_file_to_plain(full_fact_file()))
    good = fact_file_from_plain(plain)
    for mutated in mutations(plain):
        try:
            result = fact_file_from_plain(mutated)
        except Invalid:
            continue
        # the few mutations that are still well-typed (an optional text set to null) make a valid FactFile
        assert isinstance(result, FactFile) and all(isinstance(f, Fact) for f in result.facts)
        assert result != good or mutated == plain


def test_rows_check_rejects_odd_rows(tmp_path):
    from quizgen.project import load_project
    from quizgen.writers.anki import file_rows, valid_rows

    root = write_project(
        tmp_path,
        {"decks/a.yaml": "deck: A\nfacts:\n  - id: a\n    question: q\n    answer: a\n    source: src\n"},
    )
    project = load_project(str(root))
    rows = as_json(file_rows(project.files[0], project))
    assert valid_rows(rows)
    note = rows["notes"][0]
    for i in range(len(note)):
        for odd in (None, 1.5, "s", 2**64, [], {}, True):
            if type(odd) is type(note[i]) and odd != 2**64:  # same type: still a valid row
                continue
            bad = dict(rows, notes=[note[:i] + [odd] + note[i + 1 :]])
            assert not valid_rows(bad), (i, odd)
    assert not valid_rows(dict(rows, media={"qg-" + "0" * 20 + ".png": "../../etc/passwd"}))
    assert not valid_rows(dict(rows, extra=1))


def test_package_is_a_zip_of_the_same_notes_after_a_warm_build(tmp_path):
    """Warm (every entry a hit) and cold builds give the same bytes."""
    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, "--format", "apkg")
    forget_manifest(out)
    build(root, out, "--format", "apkg")
    assert zipfile.ZipFile(out / "course.apkg").namelist()
    assert (out / "course.apkg").read_bytes() == cold_package(tmp_path, root)
