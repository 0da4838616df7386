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
from shutil import which as shutil_which

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


# ---------------------------------------------------------------------------------------
# publishing: all or nothing, one build at a time


def published(out: Path) -> dict[str, bytes]:
    """Every file in OUT but the cache, with its bytes."""
    found = {}
    for dirpath, dirnames, names in os.walk(out):
        dirnames[:] = [d for d in dirnames if d != DIRNAME]
        for name in names:
            path = Path(dirpath) / name
            found[str(path.relative_to(out))] = path.read_bytes()
    return found


def edit(root: Path) -> None:
    """A second version: one fact changed, one deck added."""
    a = root / "decks" / "a.yaml"
    a.write_text(a.read_text().replace("Answer a0", "Answer a0 (corrected)"))
    (root / "decks" / "c.yaml").write_text(
        'deck: "Other"\nfacts:\n  - id: c-1\n    question: New?\n    answer: "Yes"\n    source: src\n'
    )


FORMATS = ("--format", "apkg", "--format", "html")


@pytest.mark.parametrize("blocker", ["index.html", "CHANGES.md", "a-quiz.html"])
def test_a_folder_in_the_way_changes_nothing(tmp_path, blocker):
    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, *FORMATS)
    edit(root)
    target = out / blocker
    if target.exists():
        target.unlink()
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    before = published(out)
    result = build(root, out, *FORMATS, code=1)
    assert blocker in result.stderr and "nothing in" in result.stderr
    assert published(out) == before
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".quizgen-build-")]


@pytest.mark.parametrize("failing_call", [1, 2, 3, 4, 6])
def test_a_failing_rename_rolls_everything_back(tmp_path, monkeypatch, failing_call):
    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, *FORMATS)
    edit(root)
    before = published(out)
    calls = {"n": 0}
    real_rename, real_replace = os.rename, os.replace

    def flaky(real):
        def move(src, dst, *a, **k):
            if str(out) in str(dst) or str(out) in str(src):
                calls["n"] += 1
                if calls["n"] == failing_call:
                    raise OSError(5, "Input/output error (injected)")
            return real(src, dst, *a, **k)

        return move

    monkeypatch.setattr(os, "rename", flaky(real_rename))
    monkeypatch.setattr(os, "replace", flaky(real_replace))
    result = build(root, out, *FORMATS, code=1)
    assert "nothing in" in result.stderr
    monkeypatch.undo()
    assert published(out) == before


def broken_copy(root: Path, dest: Path) -> Path:
    """The project with a syntax error: a build of it settles OUT and then fails (exit 1)."""
    import shutil

    shutil.copytree(root, dest)
    (dest / "decks" / "b.yaml").write_text("deck: B\nfacts: [\n")
    return dest


def test_sigkill_at_every_publish_step_leaves_old_or_new(tmp_path):
    import shutil

    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    formats = ("--format", "apkg")  # one package replaced, one added, CHANGES.md added: enough to mix
    base = two_file_project(tmp_path / "base")
    first = tmp_path / "first-out"
    subprocess.run([str(QUIZGEN), "build", str(base), "--out", str(first), *formats], check=True, env=env)
    old = published(first)
    reference = tmp_path / "ref"
    shutil.copytree(base, reference / "p")
    shutil.copytree(first, reference / "out")
    edit(reference / "p")
    subprocess.run(
        [str(QUIZGEN), "build", str(reference / "p"), "--out", str(reference / "out"), *formats], check=True, env=env
    )
    new = published(reference / "out")
    assert old != new and len(new) == 3
    kills = 0
    for n in range(1, 40):
        work = tmp_path / f"k{n}"
        shutil.copytree(base, work / "p")
        shutil.copytree(first, work / "out")
        edit(work / "p")
        command = [str(QUIZGEN), "build", str(work / "p"), "--out", str(work / "out"), *formats]
        proc = subprocess.run(command, env={**env, "QUIZGEN_TEST_KILL_AT": str(n)}, capture_output=True, text=True)
        if proc.returncode == 0:
            break
        assert proc.returncode == -9, proc.stderr
        kills += 1
        settled = run("build", broken_copy(work / "p", work / "broken"), "--out", work / "out")
        assert settled.exit_code == 1
        state = published(work / "out")
        assert state in (old, new), f"killed at step {n}: a mix of old and new files"
        assert not [p for p in os.listdir(work) if p.startswith(".quizgen-build-")], f"step {n}: staging left"
        if state == old:  # rolled back: building again gives exactly the uninterrupted result
            assert subprocess.run(command, env=env, capture_output=True).returncode == 0
            assert published(work / "out") == new
        shutil.rmtree(work)
    assert kills >= 8  # staging, the journal, each file's renames, the commit


def test_a_second_build_into_the_same_out_waits(tmp_path):
    import fcntl
    import time

    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, "--format", "apkg")
    edit(root)
    fd = os.open(out, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running build holds it
    proc = subprocess.Popen(
        [str(QUIZGEN), "build", str(root), "--out", str(out), "--format", "apkg"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3)
        assert proc.poll() is None, "the second build did not wait for the lock"
        assert not (out / "other.apkg").exists()
    finally:
        os.close(fd)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "waiting" in stderr and "another build" in stderr
    assert (out / "other.apkg").exists()


def test_concurrent_builds_of_two_versions_leave_one_whole_build(tmp_path):
    import shutil

    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    v1 = two_file_project(tmp_path / "v1")
    v2 = tmp_path / "v2"
    shutil.copytree(v1, v2)
    edit(v2)
    refs = {}
    for name, root in (("v1", v1), ("v2", v2)):
        ref = tmp_path / f"ref-{name}"
        subprocess.run([str(QUIZGEN), "build", str(root), "--out", str(ref), *FORMATS], check=True, env=env)
        refs[name] = published(ref)
    for root in (v1, v2):
        (root / "quizgen.lock").unlink()
    out = tmp_path / "out"
    procs = [
        subprocess.Popen([str(QUIZGEN), "build", str(r), "--out", str(out), *FORMATS], env=env, stderr=subprocess.PIPE)
        for r in (v1, v2, v1, v2)
    ]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    state = {k: v for k, v in published(out).items() if k != "CHANGES.md"}
    one, two = ({k: v for k, v in refs[n].items() if k != "CHANGES.md"} for n in ("v1", "v2"))
    # one whole build: v2's files, or v1's (with v2's extra files still there when v2 ran before it)
    last_v1 = all(state.get(k) == v for k, v in one.items()) and all(
        k in two and k not in one and v == two[k] for k, v in state.items() if k not in one
    )
    assert state == two or last_v1, "concurrent builds mixed their files"
    again = subprocess.run(
        [str(QUIZGEN), "build", str(v2), "--out", str(out), *FORMATS], env=env, capture_output=True, text=True
    )
    assert again.returncode == 0
    final = published(out)
    assert all(final[k] == v for k, v in refs["v2"].items() if k != "CHANGES.md")


def test_stale_staging_folders_are_removed_only_when_ours_and_unused(tmp_path):
    import fcntl

    from quizgen.publish import staging_prefix

    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    prefix = staging_prefix(str(out))
    stale = tmp_path / f"{prefix}stale1"
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "half.apkg").write_bytes(b"half written")
    busy = tmp_path / f"{prefix}busy"
    busy.mkdir()
    fd = os.open(busy, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a build that is still writing
    foreign = tmp_path / ".quizgen-build-abcdef"  # another OUT's, or an older quizgen's: not ours to judge
    foreign.mkdir()
    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    (elsewhere / "data").write_text("keep")
    link = tmp_path / f"{prefix}link"
    link.symlink_to(elsewhere, target_is_directory=True)
    try:
        build(root, out, "--format", "apkg")
        assert not stale.exists()
        assert busy.exists() and foreign.exists() and link.is_symlink()
        assert (elsewhere / "data").read_text() == "keep"
    finally:
        os.close(fd)


def test_noop_check_does_not_trust_a_link_in_out(tmp_path):
    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, "--format", "apkg")
    copy = tmp_path / "copy.apkg"
    copy.write_bytes((out / "course.apkg").read_bytes())
    (out / "course.apkg").unlink()
    (out / "course.apkg").symlink_to(copy)
    result = build(root, out, "--format", "apkg", code=1)  # a link where the package goes: refused
    assert "course.apkg" in result.stderr and "symbolic link" in result.stderr
    assert "up to date" not in result.stdout


# ---------------------------------------------------------------------------------------
# hostile packages, git revisions and the diff scope


def package_with(tmp_path: Path, name: str, setup_sql: str, col_json: tuple[str, str] | None = None) -> Path:
    """A zip holding collection.anki2 made by `setup_sql` (the hostile part) and a col row."""
    import sqlite3

    db = tmp_path / f"{name}.db"
    conn = sqlite3.connect(db)
    conn.executescript(setup_sql)
    if col_json is not None:
        conn.execute("CREATE TABLE IF NOT EXISTS col (id integer primary key, decks text, models text)")
        conn.execute("INSERT INTO col (decks, models) VALUES (?, ?)", col_json)
    conn.commit()
    conn.close()
    path = tmp_path / f"{name}.apkg"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(db, "collection.anki2")
        zf.writestr("media", "{}")
    return path


INFINITE_VIEW = """
CREATE TABLE cards (id integer primary key, nid int, did int);
CREATE VIEW notes AS WITH RECURSIVE r(id, mid, tags, flds) AS
  (SELECT 1, 1, '', 'x' UNION ALL SELECT id + 1, mid, tags, flds FROM r) SELECT * FROM r;
"""

GOOD_TABLES = """
CREATE TABLE notes (id integer primary key, guid text, mid integer, mod integer, usn integer, tags text,
  flds text, sfld integer, csum integer, flags integer, data text);
CREATE TABLE cards (id integer primary key, nid integer, did integer);
"""


def hostile_packages(tmp_path: Path) -> dict[str, Path]:
    deep = "[" * 100_000 + "]" * 100_000
    return {
        "infinite view": package_with(tmp_path, "view", INFINITE_VIEW, ("{}", "{}")),
        "deep JSON": package_with(tmp_path, "deep", GOOD_TABLES, (deep, deep)),
        "odd JSON": package_with(tmp_path, "odd", GOOD_TABLES, ('{"1": 5}', '{"x": []}')),
        "generated column": package_with(
            tmp_path,
            "gen",
            "CREATE TABLE notes (id integer primary key, mid int, tags text, "
            "flds text GENERATED ALWAYS AS (zeroblob(1000000000)) VIRTUAL);"
            "CREATE TABLE cards (id integer primary key, nid int, did int);",
            ("{}", "{}"),
        ),
        "no tables": package_with(tmp_path, "empty", "CREATE TABLE other (x);"),
    }


def test_hostile_packages_in_diff_fail_located_and_fast(tmp_path):
    import time

    root = two_file_project(tmp_path / "p")
    for label, path in hostile_packages(tmp_path).items():
        started = time.monotonic()
        proc = subprocess.run(
            [str(QUIZGEN), "diff", str(root), "--against", str(path)], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 1, (label, proc.stderr)
        assert str(path) in proc.stderr and "Traceback" not in proc.stderr, label
        assert time.monotonic() - started < 30, label


def test_hostile_package_in_out_does_not_hang_the_build(tmp_path):
    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    out.mkdir()
    import shutil

    for label, path in hostile_packages(tmp_path).items():
        shutil.copy(path, out / f"{label.replace(' ', '-')}.apkg")
    proc = subprocess.run(
        [str(QUIZGEN), "build", str(root), "--out", str(out), "--format", "apkg"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "course.apkg").read_bytes() == cold_package(tmp_path, root)


def test_a_slow_query_is_interrupted(tmp_path, monkeypatch):
    from quizgen import diff

    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, "--format", "apkg")
    monkeypatch.setattr(diff, "QUERY_SECONDS", -1.0)  # every query is over time at once
    monkeypatch.setattr(diff, "PROGRESS_STEPS", 1)
    result = run("diff", root, "--against", out / "course.apkg")
    assert result.exit_code == 1
    assert "course.apkg" in result.stderr and "took too long" in result.stderr


def test_a_folder_where_an_apkg_goes(tmp_path):
    root = two_file_project(tmp_path / "p")
    (tmp_path / "x.apkg").mkdir()
    result = run("diff", root, "--against", tmp_path / "x.apkg")
    assert result.exit_code == 1 and "x.apkg" in result.stderr and "folder" in result.stderr
    packages = tmp_path / "pkgs"
    (packages / "sub.apkg").mkdir(parents=True)
    result = run("diff", root, "--against", packages)
    assert result.exit_code == 1 and "sub.apkg" in result.stderr


def test_diff_against_one_package_compares_only_its_decks(tmp_path):
    root = two_file_project(tmp_path / "p")
    (root / "decks" / "c.yaml").write_text(
        'deck: "Other"\nfacts:\n  - id: c-1\n    question: New?\n    answer: "Yes"\n    source: src\n'
    )
    out = tmp_path / "out"
    build(root, out, "--format", "apkg")
    assert (out / "other.apkg").exists()
    result = run("diff", root, "--against", out / "course.apkg", "--format", "json")
    import json

    counts = json.loads(result.stdout)["counts"]
    assert counts["added"] == 0 and counts["unchanged"] == 6, counts
    folder = run("diff", root, "--against", out, "--format", "json")
    assert json.loads(folder.stdout)["counts"]["unchanged"] == 7


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@e",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@e",
        },
    )


@pytest.mark.skipif(not shutil_which("git"), reason="needs git")
def test_git_revision_with_images_outside_decks(tmp_path):
    root = write_project(
        tmp_path / "repo" / "course",
        {
            "decks/a.yaml": "deck: Img\nfacts:\n  - id: i\n    question: q\n    answer: a\n    image: img/x.png\n"
            "    source: src\n",
            "img/x.png": b"\x89PNG first",
        },
    )
    git(root.parent, "init", "-q")
    git(root.parent, "add", "-A")
    git(root.parent, "commit", "-qm", "v1")
    (root / "decks" / "a.yaml").write_text(
        "deck: Img\nfacts:\n  - id: i\n    question: q2\n    answer: a\n    image: img/x.png\n    source: src\n"
    )
    result = run("diff", root, "--against", "git:HEAD", "--format", "json")
    assert result.exit_code == 0, result.output
    import json

    assert json.loads(result.stdout)["counts"]["changed"] == 1


@pytest.mark.skipif(not shutil_which("git"), reason="needs git")
def test_git_revision_with_a_symlink_is_refused_clearly(tmp_path):
    root = two_file_project(tmp_path / "repo")
    (root / "notes.txt").symlink_to("/etc/passwd")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "v1")
    result = run("diff", root, "--against", "git:HEAD")
    assert result.exit_code == 1, result.output
    assert "notes.txt" in result.stderr and "symbolic link" in result.stderr
    option = run("diff", root, "--against", f"git:--output={tmp_path / 'written'}")
    assert option.exit_code == 1 and not (tmp_path / "written").exists()


def test_rename_warning_is_printed_by_build(tmp_path):
    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, "--format", "apkg")
    a = root / "decks" / "a.yaml"
    a.write_text(a.read_text().replace("id: a-1", "id: a-renamed"))
    result = build(root, out, "--format", "apkg")
    assert "warning: did you rename `a-1` to `a-renamed`?" in result.stderr
    assert "did you rename" in (out / "CHANGES.md").read_text()


def test_many_removed_and_added_facts_compare_quickly():
    import time

    from quizgen.diff import Note, compare

    old = {
        f"old-{i}": Note("D", "basic", f"Question number {i}\x1fAnswer {i}", ("Prompt1", "Answer1"))
        for i in range(3000)
    }
    new = {
        f"new-{i}": Note("D", "basic", f"Completely other text {i}\x1fx", ("Prompt1", "Answer1")) for i in range(3000)
    }
    new["new-same"] = old["old-7"]
    started = time.monotonic()
    result = compare(old, new)
    assert time.monotonic() - started < 20
    assert any("`old-7` to `new-same`" in w for w in result.warnings)


# ---------------------------------------------------------------------------------------
# exit 1 or 2 with a message, never 3: odd lock files, SOURCE_DATE_EPOCH, a full disk

ODD_LOCKS = {
    "a list": "[1, 2, 3]",
    "a string": '"facts"',
    "deep nesting": "[" * 100_000 + "]" * 100_000,
    "a huge integer": '{"version": 1, "facts": {"a-0": ["0123456789abcdef", ' + "9" * 4000 + "]}}",
    "a too-long integer": '{"version": 1, "facts": {"a-0": ["0123456789abcdef", ' + "9" * 5000 + "]}}",
    "Infinity": '{"version": 1, "facts": {"a-0": ["0123456789abcdef", Infinity]}}',
    "NaN": '{"version": 1, "facts": {"a-0": ["0123456789abcdef", NaN]}}',
    "a float": '{"version": 1, "facts": {"a-0": ["0123456789abcdef", 1.5]}}',
    "a negative time": '{"version": 1, "facts": {"a-0": ["0123456789abcdef", -5]}}',
    "a boolean version": '{"version": true, "facts": {}}',
    "facts as a list": '{"version": 1, "facts": []}',
    "an entry of wrong types": '{"version": 1, "facts": {"a-0": [5, "x"]}}',
    "a short entry": '{"version": 1, "facts": {"a-0": ["0123456789abcdef"]}}',
    "a key with a newline": '{"version": 1, "facts": {"a-0\\n": ["0123456789abcdef", 1]}}',
    "not JSON": '{"version": 1,\n "facts": {\n oops',
    "not UTF-8": b'{"version": 1, "facts": {"\xff": 1}}',
    "a folder": None,
}


@pytest.mark.parametrize("label", list(ODD_LOCKS))
def test_odd_lock_files_are_located_errors(tmp_path, label):
    root = two_file_project(tmp_path / "p")
    lock = root / "quizgen.lock"
    content = ODD_LOCKS[label]
    if content is None:
        lock.mkdir()
    elif isinstance(content, bytes):
        lock.write_bytes(content)
    else:
        lock.write_text(content)
    out = tmp_path / "out"
    result = run("build", root, "--out", out, "--format", "apkg")
    assert result.exit_code == 1, (label, result.output)
    assert "quizgen.lock" in result.stderr and "internal error" not in result.stderr
    assert not out.exists()
    if label == "not JSON":
        assert "quizgen.lock:3:" in result.stderr
    if label == "an entry of wrong types":
        assert "quizgen.lock:1: 'a-0'" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_lock_file_does_not_hang(tmp_path):
    root = two_file_project(tmp_path / "p")
    os.mkfifo(root / "quizgen.lock")
    proc = subprocess.run(
        [str(QUIZGEN), "build", str(root), "--out", str(tmp_path / "out"), "--format", "apkg"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "quizgen.lock" in proc.stderr


@pytest.mark.parametrize("value", ["-1", "253402300800", "9" * 30, "9" * 5000, "1e9", "soon"])
def test_out_of_range_source_date_epoch_is_a_usage_error(tmp_path, monkeypatch, value):
    root = two_file_project(tmp_path / "p")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    result = run("build", root, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "SOURCE_DATE_EPOCH" in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("value", ["0", "253402300799"])
def test_source_date_epoch_at_the_edges_builds(tmp_path, monkeypatch, value):
    root = two_file_project(tmp_path / "p")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    build(root, tmp_path / "out", *FORMATS)


def limited(limit: int):
    def preexec():
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


@pytest.mark.parametrize("limit", [0, 2_000, 20_000, 60_000])
def test_a_full_disk_is_exit_1_and_changes_nothing(tmp_path, limit):
    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, *FORMATS)
    edit(root)
    before = published(out)
    proc = subprocess.run(
        [str(QUIZGEN), "build", str(root), "--out", str(out), *FORMATS],
        capture_output=True,
        text=True,
        preexec_fn=limited(limit),
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    if proc.returncode == 1:
        assert "nothing in" in proc.stderr or "quizgen.lock" in proc.stderr, proc.stderr
        assert published(out) == before


def test_no_space_for_the_lock_or_the_journal(tmp_path, monkeypatch):
    import errno

    from quizgen import lock, publish

    root = two_file_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out, *FORMATS)
    edit(root)
    before = published(out)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    for target, name in ((lock.Lock, "save"), (publish, "_write_journal")):
        with monkeypatch.context() as m:
            m.setattr(target, name, full)
            result = run("build", root, "--out", out, *FORMATS)
        assert result.exit_code == 1, result.output
        assert "No space left on device" in result.stderr
        assert published(out) == before
