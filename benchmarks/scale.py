#!/usr/bin/env python3
"""How quizgen scales, as ratios against a plain genanki script on the same data in the same run.

    python benchmarks/scale.py [--facts N] [--curve] [--runs R]

Generates a project of N basic facts in 100 fact files (decks `Scale::Topic 0..99`,
with ids, tags and a source on each fact), then times, each as a separate process:
  A  a plain genanki script writing the same notes (one model, 100 decks, explicit guids)
  B  quizgen build --format apkg, cold (empty output and cache)
  C  the same again, nothing changed
  D  again after appending one fact to one file
  E  quizgen build --format all, cold
and prints B/A, C/A, D/A, E/A with the peak RSS of each run.  --curve repeats the
A/B/C/D measurements for 1,000, 10,000, 100,000 and 300,000 facts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = 100
SPLITS: list[tuple[float, float]] = []  # plain script: (read YAML + make notes, genanki write) seconds

GENANKI_SCRIPT = r"""
import gc, glob, os, sys, time, genanki, yaml
if os.environ.get("BENCH_NO_GC"):
    gc.disable()  # A': the same script, tuned by hand (CPython's GC dominates YAML loading at scale)
root, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
model = genanki.Model(1607392319, "Simple", fields=[{"name": "Question"}, {"name": "Answer"}],
    templates=[{"name": "Card 1", "qfmt": "{{Question}}", "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}"}])
decks = []
for i, path in enumerate(sorted(glob.glob(root + "/decks/topic-*.yaml"))):
    data = yaml.load(open(path, encoding="utf-8"), Loader=yaml.CSafeLoader)
    deck = genanki.Deck(2059400110 + i, data["deck"])
    for f in data["facts"]:
        deck.add_note(genanki.Note(model=model, fields=[f["question"]["en"], f["answer"]["en"]],
                                   guid=genanki.guid_for(f["id"]), tags=data.get("tags", []) + f.get("tags", [])))
    decks.append(deck)
t1 = time.perf_counter()
genanki.Package(decks).write_to_file(out)
print("split", t1 - t0, time.perf_counter() - t1)
"""


def generate(root: str, n: int) -> None:
    os.makedirs(os.path.join(root, "decks"), exist_ok=True)
    with open(os.path.join(root, "quizgen.yaml"), "w", encoding="utf-8") as fh:
        fh.write("id: scale-benchmark-0001\n")  # build requires a project identity
    with open(os.path.join(root, "decks", "sources.yaml"), "w", encoding="utf-8") as fh:
        fh.write("bench:\n  title: Generated benchmark source\n  url: https://example.org/bench\n")
    per_file = [n // FILES + (1 if i < n % FILES else 0) for i in range(FILES)]
    k = 0
    for i, count in enumerate(per_file):
        lines = [f'deck: "Scale::Topic {i}"', f"tags: [topic-{i}]", "facts:"]
        for _ in range(count):
            lines += [
                f"  - id: fact-{k}",
                "    question:",
                f"      ko: 사실 {k}번의 질문은 무엇인가요?",
                f"      en: What is the question of fact number {k}?",
                "    answer:",
                f"      ko: 답 {k}",
                f"      en: Answer {k}",
                "    source: bench",
                f"    tags: [group-{k % 7}]",
            ]
            k += 1
        with open(os.path.join(root, "decks", f"topic-{i}.yaml"), "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


def peak_rss(cmd: list[str], env=None) -> tuple[float, float]:
    """Time a command and read its own peak RSS via a tiny wrapper (RUSAGE_CHILDREN of a fresh child)."""
    wrapper = [
        sys.executable,
        "-c",
        "import resource,subprocess,sys,time;t=time.perf_counter();"
        "r=subprocess.run(sys.argv[1:]);e=time.perf_counter()-t;"
        "print(e, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024, file=sys.stderr);"
        "sys.exit(r.returncode)",
    ] + cmd
    proc = subprocess.run(wrapper, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stdout[-1000:]}{proc.stderr[-2000:]}")
    seconds, rss = proc.stderr.strip().splitlines()[-1].split()
    split = [ln.split()[1:] for ln in proc.stdout.splitlines() if ln.startswith("split ")]
    if split:
        SPLITS.append(tuple(float(x) for x in split[0]))
    return float(seconds), float(rss)


def measure(n: int, runs: int, with_html: bool) -> dict:
    quizgen = os.path.join(os.path.dirname(sys.executable), "quizgen")
    work = tempfile.mkdtemp(prefix="quizgen-bench-")
    try:
        root = os.path.join(work, "proj")
        generate(root, n)
        script = os.path.join(work, "plain_genanki.py")
        with open(script, "w") as fh:
            fh.write(GENANKI_SCRIPT)
        env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
        res: dict[str, list] = {k: [] for k in ["A", "A'", "B", "C", "D", "E"]}
        for r in range(runs):
            out = os.path.join(work, f"out{r}")
            res["A"].append(peak_rss([sys.executable, script, root, os.path.join(work, f"plain{r}.apkg")], env))
            res["A'"].append(
                peak_rss(
                    [sys.executable, script, root, os.path.join(work, f"plainng{r}.apkg")], {**env, "BENCH_NO_GC": "1"}
                )
            )
            lock = os.path.join(root, "quizgen.lock")
            if os.path.exists(lock):
                os.remove(lock)
            res["B"].append(peak_rss([quizgen, "build", root, "--out", out, "--format", "apkg"], env))
            res["C"].append(peak_rss([quizgen, "build", root, "--out", out, "--format", "apkg"], env))
            with open(os.path.join(root, "decks", "topic-7.yaml"), "a", encoding="utf-8") as fh:
                fh.write(f"  - id: extra-{r}\n    question: Added?\n    answer: Yes\n    source: bench\n")
            res["D"].append(peak_rss([quizgen, "build", root, "--out", out, "--format", "apkg"], env))
            if with_html:
                res["E"].append(
                    peak_rss([quizgen, "build", root, "--out", os.path.join(work, f"all{r}"), "--format", "all"], env)
                )
        return {k: (min(t for t, _ in v), max(m for _, m in v)) for k, v in res.items() if v}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(n: int, res: dict) -> None:
    a, a2 = res["A"][0], res["A'"][0]
    print(
        f"\n{n:,} facts: plain genanki script A = {a:.2f} s (peak RSS {res['A'][1]:.0f} MB); "
        f"the same script with the GC disabled, A' = {a2:.2f} s"
    )
    if len(SPLITS) >= 2:
        (load, write), (load2, write2) = SPLITS[0], SPLITS[1]
        print(
            f"  (A = {load:.2f} s reading YAML with CSafeLoader and making genanki notes + {write:.2f} s "
            f"genanki write_to_file; A' = {load2:.2f} + {write2:.2f} s)"
        )
    labels = {"B": "cold apkg build", "C": "no-op rebuild", "D": "one-file edit", "E": "cold build, all formats"}
    for key, label in labels.items():
        if res.get(key):
            t, rss = res[key]
            print(
                f"  {key} {label:<24} {t:7.2f} s   {key}/A = {t / a:5.2f}   {key}/A' = {t / a2:5.2f}"
                f"   peak RSS {rss:6.0f} MB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1, help="repeat and keep the best time")
    parser.add_argument("--curve", action="store_true", help="also measure 1k, 10k, 100k, 300k facts")
    args = parser.parse_args()
    report(args.facts, measure(args.facts, args.runs, with_html=True))
    if args.curve:
        print("\nGrowth (A, B, C, D seconds; B per 1,000 facts):")
        for n in (1_000, 10_000, 100_000, 300_000):
            SPLITS.clear()
            res = measure(n, 1, with_html=False)
            a2 = res["A'"][0]
            print(
                f"  {n:>8,}  A {res['A'][0]:6.2f}  A' {a2:6.2f}  B {res['B'][0]:6.2f}  C {res['C'][0]:6.2f}  "
                f"D {res['D'][0]:6.2f}  B/1k {1000 * res['B'][0] / n:6.3f} s  peak RSS B {res['B'][1]:.0f} MB"
            )


if __name__ == "__main__":
    main()
