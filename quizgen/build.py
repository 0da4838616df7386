"""Run the writers and publish their output atomically; skip work the cache proves unneeded.

Writers write into a private temporary folder beside `--out`.  Only when every
writer has finished are the files moved into `--out` (each with an atomic
rename), so a failed build, whatever the reason, leaves every file already in
`--out` byte-for-byte as it was.

Speed at scale (see benchmarks/scale.py): fact files are parsed by worker
processes when there is enough work for both cores, parsed files are reused
from the cache when their bytes are unchanged, and a build whose inputs and
outputs are all unchanged does nothing.  The cyclic GC is paused while the
project loads (it would rescan the growing model over and over for no gain)
and the loaded model is then frozen out of later collections.
"""

from __future__ import annotations

import base64
import difflib
import gc
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

from .cache import Cache, code_fingerprint, digest, file_digest, forget_digests
from .errors import QuizgenError, UsageProblem
from .loader import inside
from .lock import LOCK_FILE, Lock
from .model import Project
from .plain import fact_file_from_plain, fact_file_to_plain, plain_leaf
from .project import CONFIG_FILE, find_root, load_fact_file, load_project
from .writers import Options, registry

PARALLEL_MIN_BYTES = 2_000_000  # below this (unless workers is given), starting workers costs more than it saves


@dataclass
class Result:
    files: list[str]
    facts: int
    up_to_date: bool = False
    stats: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def source_date_epoch() -> int | None:
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise QuizgenError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {value!r}") from None


def usable_formats(formats, chosen: list[str], warnings: list[str]) -> list[str]:
    """Drop the writers that cannot run here (the PDF writer without a browser): a format asked
    for by name fails with the writer's reason, one that came with `all` is skipped with a warning."""
    writers = registry()
    named = set(formats or ()) - {"all"}
    usable = []
    for name in chosen:
        check = getattr(writers[name], "available", None)
        why = check() if check else None
        if why is None:
            usable.append(name)
        elif name in named:
            raise QuizgenError(f"--format {name}: {why}")
        else:
            warnings.append(f"{name} skipped: {why}")
    return usable


def resolve_formats(formats) -> list[str]:
    available = registry()
    chosen: list[str] = []
    for name in formats or ("all",):
        names = list(available) if name == "all" else [name]
        for n in names:
            if n not in available:
                raise QuizgenError(f"unknown format {n!r} (available: {', '.join(available)}, all)")
            if n not in chosen:
                chosen.append(n)
    return chosen


# ---------------------------------------------------------------------------------------
# loading with cache and workers


def _parse(args):
    return load_fact_file(*args)


def image_ok(root: str, rel: str) -> bool:
    """A cached parse is reused only while its images still exist inside the project (links can change)."""
    path = os.path.join(root, rel)
    return os.path.isfile(path) and inside(root, path)


def cached_loader(cache: Cache | None, keys: dict[str, str], workers: int | None = None):
    """A `load_project` loader that reuses cached parses and spreads the rest over the cores."""

    def load(root, rels, languages, source_ids):
        results: dict[str, tuple] = {}
        todo = []
        for rel in rels:
            path = os.path.join(root, rel)
            try:
                key = digest(code_fingerprint(), "facts", rel, file_digest(path), languages, sorted(source_ids))
            except OSError:
                key = ""
            keys[rel] = key
            hit = cache.get(key, fact_file_from_plain) if cache is not None and key else None
            if hit is not None and all(image_ok(root, f.image) for f in hit.facts if f.image):
                results[rel] = (hit, [])
            else:
                todo.append(rel)
        size = sum(os.path.getsize(os.path.join(root, r)) for r in todo if os.path.exists(os.path.join(root, r)))
        n = workers if workers is not None else min(os.cpu_count() or 1, len(todo))
        args = [(root, rel, languages, source_ids) for rel in todo]
        if n > 1 and (size >= PARALLEL_MIN_BYTES or workers is not None):
            with ProcessPoolExecutor(max_workers=n, mp_context=get_context("fork")) as pool:
                parsed = list(pool.map(_parse, args, chunksize=max(1, len(args) // (n * 4))))
        else:
            parsed = [_parse(a) for a in args]
        for rel, (fact_file, problems) in zip(todo, parsed):
            results[rel] = (fact_file, problems)
            if cache is not None and fact_file is not None and not problems and keys.get(rel):  # never a partial file
                cache.put(keys[rel], fact_file_to_plain(fact_file), plain_leaf)
        return [results[rel] for rel in rels]

    return load


def load_fast(project_dir: str, cache: Cache | None = None, keys: dict | None = None) -> Project:
    """load_project with the GC paused during loading and the result frozen afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        project = load_project(project_dir, loader=cached_loader(cache, keys if keys is not None else {}))
    finally:
        if enabled:
            gc.enable()
    gc.freeze()
    return project


def cached_memo(cache: Cache, keys: dict[str, str], project: Project):
    """The `Options.memo` of a cached build: a writer's per-file result, reused while its inputs are unchanged.

    The key covers the parsed file (its bytes, languages and source ids), the project's identity,
    languages and full source records, and the bytes of the file's images, which is everything a
    writer's per-file work may read."""
    sources = sorted((s.id, s.title, s.url, s.date, s.publisher) for s in project.sources.values())
    context = digest(getattr(project, "id", ""), project.languages, sources)

    def memo(kind: str, fact_file, compute, check=None):
        base = keys.get(fact_file.path)
        if not base or check is None:  # only a result the writer can check is ever reused
            return compute()
        images = sorted({f.image for f in fact_file.facts if f.image})
        images = [(rel, file_digest(os.path.join(project.root, rel))) for rel in images]
        key = digest(kind, base, context, images)
        value = cache.get(key)
        if value is None or not check(value):
            value = compute()
            cache.put(key, value)
        return value

    return memo


def content_memo(cache: Cache):
    """The `Options.memo_content` of a cached build: bytes keyed by a digest of everything they depend on
    (a printed PDF by its page's HTML and the browser), reused across builds.  The cache holds plain
    data only, so the bytes are stored as base64 text and anything else found there is a miss."""

    def memo(kind: str, key: str, compute):
        full = digest(code_fingerprint(), "content", kind, key)
        stored = cache.get(full)
        if type(stored) is str:
            try:
                return base64.b64decode(stored, validate=True)
            except ValueError:
                pass
        value = compute()
        cache.put(full, base64.b64encode(value).decode("ascii"))
        return value

    return memo


# ---------------------------------------------------------------------------------------
# the no-op check


def input_fingerprint(root: str, formats: list[str], options: Options, images) -> str:
    """Everything a build's output depends on, hashed; None-safe for missing files."""
    parts = [code_fingerprint(), ",".join(formats), str(options.lang), str(options.apkg), options.forms]
    parts += [options.seed, options.epoch]
    # Whether each file resolves inside the project is an input too: a file swapped for a link to
    # the same bytes elsewhere must be refused by a real build, not found "up to date".
    for rel in (CONFIG_FILE, LOCK_FILE):
        path = os.path.join(root, rel)
        parts += [rel, file_digest(path) if os.path.isfile(path) else "-", inside(root, path)]
    for top in ("decks", "quizzes", "templates"):
        for dirpath, dirnames, names in os.walk(os.path.join(root, top)):
            dirnames.sort()
            parts += [os.path.relpath(dirpath, root), inside(root, dirpath)]
            for name in sorted(names):
                path = os.path.join(dirpath, name)
                regular = os.path.isfile(path)  # a FIFO is never read here
                parts += [os.path.relpath(path, root), file_digest(path) if regular else "-", inside(root, path)]
    for rel in sorted(images or ()):
        path = os.path.join(root, rel)
        parts += [rel, file_digest(path) if os.path.isfile(path) else "-"]
    return digest(*parts)


def outputs_intact(out: str, recorded: dict) -> bool:
    try:
        return bool(recorded) and all(file_digest(os.path.join(out, rel)) == h for rel, h in recorded.items())
    except OSError:
        return False


# ---------------------------------------------------------------------------------------


def packages_key(paths) -> str:
    """Cache key of the note keys of exactly these package files."""
    return digest("note-keys", *sorted((os.path.basename(p), file_digest(p)) for p in paths))


def previous_packages(out: str, cache: Cache | None):
    """(paths, note keys) of the packages an earlier build left in OUT, or None (then no CHANGES.md).

    The keys come from the cache when it holds them for these very files (checked by content
    hash), else from reading the packages."""
    from .diff import packages_snapshot

    try:
        paths = sorted(os.path.join(out, n) for n in os.listdir(out) if n.endswith(".apkg"))
    except OSError:
        return None
    if not paths:
        return None
    keys = cache.get(packages_key(paths)) if cache is not None else None
    if type(keys) is dict and all(type(v) is str for v in keys.values()):
        return paths, keys
    try:
        return paths, packages_snapshot(paths, keys=True)
    except QuizgenError:
        return None  # not ours: nothing to compare with


def build_project(
    project_dir: str, out: str, formats, options: Options | None = None, use_cache: bool = True
) -> Result:
    """Load, validate and build PROJECT into OUT; the CLI's `build`."""
    options = options or Options()
    warnings = options.report.setdefault("warnings", [])
    chosen = usable_formats(formats, resolve_formats(formats), warnings)
    if options.epoch is None:
        options.epoch = source_date_epoch()
    forget_digests()
    root = find_root(project_dir)
    out = os.path.abspath(out)
    cache = Cache(out) if use_cache else None
    if cache is not None:
        manifest = cache.read_manifest()
        before = input_fingerprint(root, chosen, options, manifest.get("images"))
        if manifest.get("inputs") == before and outputs_intact(out, manifest.get("outputs", {})):
            facts = int(manifest.get("facts", 0))
            return Result(sorted(manifest["outputs"]), facts, up_to_date=True, warnings=list(warnings))
    previous = previous_packages(out, cache) if "apkg" in chosen else None
    if previous is not None:
        options.extra["previous_paths"], options.extra["previous"] = previous
    keys: dict[str, str] = {}
    project = load_fast(root, cache, keys)
    if cache is not None:
        options.memo = cached_memo(cache, keys, project)
        options.memo_content = content_memo(cache)
    written = build(project, out, chosen, options)
    stats = {}
    if cache is not None:
        images = sorted({f.image for f in project.facts if f.image})
        packages = [os.path.join(out, rel) for rel in written if rel.endswith(".apkg")]
        if packages and options.report.get("note_digests"):
            cache.put(packages_key(packages), options.report["note_digests"])
        cache.commit(
            {
                "inputs": input_fingerprint(root, chosen, options, images),
                "outputs": {rel: file_digest(os.path.join(out, rel)) for rel in written},
                "images": images,
                "facts": len(project.facts),
            }
        )
        stats = {"cache hits": cache.hits, "cache misses": cache.misses}
    return Result(written, len(project.facts), stats=stats, warnings=list(options.report.get("warnings", ())))


def build(project: Project, out: str, formats, options: Options | None = None) -> list[str]:
    """Write every chosen format for `project` into `out`; return the files written (relative)."""
    options = options or Options()
    writers = registry()
    chosen = resolve_formats(formats)
    if options.epoch is None:
        options.epoch = source_date_epoch()
    options.extra["formats"] = chosen  # e.g. the HTML index links the packages of the same build
    if options.lang not in (None, "both") and options.lang not in project.languages:
        close = difflib.get_close_matches(options.lang, project.languages, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UsageProblem(
            f"--lang {options.lang}: not a project language (use one of: {', '.join(project.languages)}, both){hint}"
        )
    if "apkg" in chosen and options.lock is None:
        now = options.epoch if options.epoch is not None else int(time.time())
        options.lock = Lock.load(project.root, now)
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".quizgen-build-", dir=parent)
    except OSError as exc:
        raise QuizgenError(f"cannot write to {parent}: {exc.strerror}") from None
    try:
        written: list[str] = []
        for name in chosen:
            if options.progress:
                options.progress(f"writing {name}")
            written += writers[name].write(project, tmp, options)
        if options.extra.get("previous") is not None and "note_digests" in options.report:
            written.append(write_changes(tmp, project, options.extra, options.report["note_digests"]))
        publish(tmp, out, written)
    except OSError as exc:
        raise QuizgenError(f"build failed, nothing in {out} was changed: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lock = options.lock
    if isinstance(lock, Lock) and lock.changed:
        lock.save()
    return written


def update_lock(project_dir: str, write: bool = True) -> tuple[Project, Lock]:
    """Stamp every note as a build would, without writing any output; save the lock when `write`.

    The packages go to a throwaway folder: the lock is whatever the apkg writer stamps, so this
    cannot disagree with a real build.  `Lock.differences()` then says what was stale."""
    epoch = source_date_epoch()
    project = load_fast(find_root(project_dir))
    lock = Lock.load(project.root, epoch if epoch is not None else int(time.time()))
    with tempfile.TemporaryDirectory(prefix="quizgen-lock-") as tmp:
        registry()["apkg"].write(project, tmp, Options(lock=lock, epoch=epoch))
    if write and lock.changed:
        lock.save()
    return project, lock


def write_changes(tmp: str, project: Project, extra: dict, digests: dict[str, str]) -> str:
    """CHANGES.md: what importing these packages will do, compared with the previous build.

    Only notes whose digests differ are read in full: old ones from the old packages, new ones
    made again (for their fact files only) by the Anki writer's own code, so this stays cheap at
    100,000 notes."""
    from .diff import compare, packages_snapshot, project_snapshot, render

    previous = extra["previous"]
    changed_ids = {fact_id for fact_id, d in digests.items() if previous.get(fact_id) != d}
    differing = (changed_ids | (set(previous) - set(digests))) & set(previous)
    old = packages_snapshot(extra["previous_paths"], only=differing) if differing else {}
    new = project_snapshot(project, only=changed_ids) if changed_ids else {}
    unchanged = len(digests) - len(changed_ids)
    text = render(compare(old, new, unchanged), "markdown")
    text = text.replace("# Changes", "# Changes since the previous build", 1)
    with open(os.path.join(tmp, "CHANGES.md"), "w", encoding="utf-8") as fh:
        fh.write(text)
    return "CHANGES.md"


def publish(tmp: str, out: str, written: list[str]) -> None:
    os.makedirs(out, exist_ok=True)
    for rel in written:
        target = os.path.join(out, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(os.path.join(tmp, rel), target)
