"""Incremental builds: byte-identical to cold ones, and a damaged cache is never trusted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import run, write_project

from quizgen.cache import DIRNAME


def make_project(root: Path, files: int = 4, per_file: int = 30) -> Path:
    decks = {}
    for i in range(files):
        lines = [f'deck: "Big::Topic {i}"', "facts:"]
        for k in range(per_file):
            lines += [
                f"  - id: t{i}-f{k}",
                f"    question: {{ko: 질문 {i}-{k}, en: Question {i}-{k}}}",
                f"    answer: {{ko: 답 {k}, en: Answer {k}}}",
                "    source: src",
            ]
        decks[f"decks/topic-{i}.yaml"] = "\n".join(lines) + "\n"
    return write_project(root, decks)


def build(root, out, *extra):
    result = run("build", root, "--out", out, "--format", "apkg", *extra)
    assert result.exit_code == 0, result.output
    return result


def package(out: Path) -> bytes:
    return (out / "big.apkg").read_bytes()


def test_noop_rebuild_does_nothing(tmp_path):
    root = make_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out)
    stamp = os.stat(out / "big.apkg").st_mtime_ns
    result = build(root, out)
    assert "up to date" in result.stdout
    assert os.stat(out / "big.apkg").st_mtime_ns == stamp


def test_incremental_equals_cold(tmp_path):
    root = make_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out)
    path = root / "decks" / "topic-2.yaml"
    path.write_text(path.read_text() + "  - id: added\n    question: New?\n    answer: 'Yes'\n    source: src\n")
    result = build(root, out)
    assert "built 121 facts" in result.stdout
    incremental = package(out)
    cold_out = tmp_path / "cold"
    build(root, cold_out, "--no-cache")
    assert package(cold_out) == incremental
    assert not (cold_out / DIRNAME).exists()  # --no-cache neither reads nor writes a cache


def test_edited_output_is_rebuilt(tmp_path):
    root = make_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out)
    good = package(out)
    (out / "big.apkg").write_bytes(b"damaged")
    assert "up to date" not in build(root, out).stdout
    assert package(out) == good


def test_corrupt_cache_is_ignored(tmp_path):
    root = make_project(tmp_path / "p")
    out = tmp_path / "out"
    build(root, out)
    good = package(out)
    entries = sorted(p for p in (out / DIRNAME).rglob("*.json") if p.name != "manifest.json")
    assert entries
    for i, entry in enumerate(entries):
        data = bytearray(entry.read_bytes())
        if i % 3 == 0:
            data = data[: len(data) // 2]  # truncated
        elif i % 3 == 1:
            data[-5] ^= 0xFF  # one flipped byte: JSON might still parse, the MAC catches it
        else:
            data = b"not an entry at all"
        entry.write_bytes(bytes(data))
    (out / DIRNAME / "manifest.json").write_text("{broken")
    (root / "decks" / "topic-0.yaml").write_text((root / "decks" / "topic-0.yaml").read_text())  # touch
    build(root, out)
    assert package(out) == good


def test_stale_cache_from_other_languages_is_not_reused(tmp_path):
    root = make_project(tmp_path / "p", files=1, per_file=3)
    out = tmp_path / "out"
    build(root, out)
    (root / "quizgen.yaml").write_text("id: test-course-0001\nlanguages: [en, ko]\n")
    build(root, out)
    cold = tmp_path / "cold"
    build(root, cold, "--no-cache")
    assert package(out) == package(cold)


def test_parallel_and_sequential_loading_agree(tmp_path):
    from quizgen.build import cached_loader
    from quizgen.project import load_project

    root = make_project(tmp_path / "p", files=6, per_file=20)
    one = load_project(str(root), loader=cached_loader(None, {}, workers=1))
    two = load_project(str(root), loader=cached_loader(None, {}, workers=2))
    assert one.files == two.files


def test_builds_identical_across_hash_seeds(tmp_path):
    root = make_project(tmp_path / "p", files=3, per_file=10)
    outputs = []
    for seed in ("0", "12345"):
        out = tmp_path / f"out{seed}"
        exe = Path(sys.executable).parent / "quizgen"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [str(exe), "build", str(root), "--out", str(out), "--format", "apkg", "--no-cache"],
            check=True,
            env=env,
            capture_output=True,
        )
        outputs.append(package(out))
    assert outputs[0] == outputs[1]


def test_parallel_html_equals_sequential(tmp_path, monkeypatch):
    from quizgen.writers import html

    root = make_project(tmp_path / "p", files=3, per_file=5)
    outputs = []
    for threshold in (1, 10**9):  # forked workers, then one process
        monkeypatch.setattr(html, "PARALLEL_MIN_FACTS", threshold)
        out = tmp_path / f"html{threshold}"
        build_html = run("build", root, "--out", out, "--format", "html", "--no-cache")
        assert build_html.exit_code == 0, build_html.output
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1] and len(outputs[0]) == 10  # 3 quizzes, 3 keys, 3 study sheets, index


def test_changed_image_reaches_the_package_through_the_cache(tmp_path):
    import zipfile

    root = write_project(
        tmp_path / "p",
        {
            "decks/a.yaml": "deck: Img\nfacts:\n  - id: i\n    question: q\n    answer: a\n    image: img/x.png\n",
            "img/x.png": b"first image bytes",
        },
    )
    out = tmp_path / "out"
    build(root, out)
    (root / "img" / "x.png").write_bytes(b"second image bytes")
    build(root, out)
    with zipfile.ZipFile(out / "img.apkg") as zf:
        assert zf.read("0") == b"second image bytes"
    cold = tmp_path / "cold"
    build(root, cold, "--no-cache")
    assert (cold / "img.apkg").read_bytes() == (out / "img.apkg").read_bytes()
