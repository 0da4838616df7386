"""Run the writers and publish their output atomically; skip work the cache proves unneeded.

A build locks OUT, finishes off any interrupted earlier publish, then has the writers write
into a private staging folder beside OUT.  Only when every writer has finished (and every
target in OUT is known to be replaceable) are the files published, through a journal that
makes the whole set appear at once or not at all, even if the process is killed (publish.py).
So a failed build, whatever the reason, leaves every file in OUT byte-for-byte as it was.
Exit 1, never a traceback, for what the machine refuses (a full disk, a folder in the way).

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
import sqlite3
import stat
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

from .cache import Cache, code_fingerprint, digest, file_digest, forget_digests
from .errors import QuizgenError, UsageProblem
from .loader import inside
from .lock import LOCK_FILE, MAX_TIME, Lock
from .model import Project
from .plain import fact_file_from_plain, fact_file_to_plain, plain_leaf
from .project import CONFIG_FILE, find_root, load_fact_file, load_project
from .publish import OutLock, clean_stale, make_staging, preflight, publish, recover, step
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
    """SOURCE_DATE_EPOCH as a time every output can show: a usage error (exit 2) otherwise."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None or value == "":
        return None
    try:
        epoch = int(value) if len(value) <= 20 else None
    except ValueError:
        epoch = None
    if epoch is None or not 0 <= epoch <= MAX_TIME:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise UsageProblem(
            f"SOURCE_DATE_EPOCH={shown}: must be a whole number of seconds from 0 to {MAX_TIME} (the end of year 9999)"
        )
    return epoch


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
    """Every file the last build wrote is still in OUT as a regular file (not a link) with the same bytes."""
    if not recorded:
        return False
    for rel, expected in recorded.items():
        path = os.path.join(out, rel)
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode) or file_digest(path) != expected:
                return False
        except OSError:
            return False
    return True


# ---------------------------------------------------------------------------------------


def packages_key(paths) -> str:
    """Cache key of the note keys of exactly these package files."""
    return digest("note-keys", *sorted((os.path.basename(p), file_digest(p)) for p in paths))


def previous_packages(out: str, cache: Cache | None):
    """(paths, note keys) of the packages an earlier build left in OUT, or None (then no CHANGES.md).

    The keys come from the cache when it holds them for these very files (checked by content
    hash), else from reading the packages."""
    from .diff import packages_snapshot

    try:  # regular files only: a folder or FIFO named x.apkg is not a package (publish refuses it if in the way)
        paths = sorted(os.path.join(out, n) for n in os.listdir(out) if n.endswith(".apkg"))
    except OSError:
        return None
    paths = [p for p in paths if _is_file(p)]
    if not paths:
        return None
    keys = cache.get(packages_key(paths)) if cache is not None else None
    if type(keys) is dict and all(type(v) is str for v in keys.values()):
        return paths, keys
    ours, keys = [], {}
    for path in paths:
        try:
            keys.update(packages_snapshot([path], keys=True))
            ours.append(path)
        except QuizgenError:
            continue  # not ours (or hostile): nothing to compare with
    return (ours, keys) if ours else None


def _is_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def build_project(
    project_dir: str, out: str, formats, options: Options | None = None, use_cache: bool = True, notify=None
) -> Result:
    """Load, validate and build PROJECT into OUT; the CLI's `build`.

    `notify(message)` tells the user about waiting for another build and about an interrupted
    publish finished off (see publish.py)."""
    options = options or Options()
    warnings = options.report.setdefault("warnings", [])
    chosen = usable_formats(formats, resolve_formats(formats), warnings)
    if options.epoch is None:
        options.epoch = source_date_epoch()
    forget_digests()
    root = find_root(project_dir)
    out = os.path.abspath(out)
    with OutLock(out, notify):
        settle(out, notify)
        cache = Cache(out) if use_cache else None
        if cache is not None:
            manifest = cache.read_manifest()
            before = input_fingerprint(root, chosen, options, manifest.get("images"))
            if manifest.get("inputs") == before and outputs_intact(out, manifest.get("outputs", {})):
                return Result(sorted(manifest["outputs"]), manifest["facts"], up_to_date=True, warnings=list(warnings))
        previous = previous_packages(out, cache) if "apkg" in chosen else None
        if previous is not None:
            options.extra["previous_paths"], options.extra["previous"] = previous
        keys: dict[str, str] = {}
        project = load_fast(root, cache, keys)
        if cache is not None:
            options.memo = cached_memo(cache, keys, project)
            options.memo_content = content_memo(cache)
        written, digests = build_locked(project, out, chosen, options)
        stats = {}
        if cache is not None:
            images = sorted({f.image for f in project.facts if f.image})
            packages = [os.path.join(out, rel) for rel in written if rel.endswith(".apkg")]
            if packages and options.report.get("note_digests"):
                cache.put(packages_key(packages), options.report["note_digests"])
            cache.commit(
                {
                    "inputs": input_fingerprint(root, chosen, options, images),
                    "outputs": digests,
                    "images": images,
                    "facts": len(project.facts),
                }
            )
            stats = {"cache hits": cache.hits, "cache misses": cache.misses}
    return Result(written, len(project.facts), stats=stats, warnings=list(options.report.get("warnings", ())))


def settle(out: str, notify=None) -> None:
    """With OUT locked: roll back an interrupted publish, then remove this OUT's stale staging folders."""
    try:
        recovered = recover(out)
    except OSError as exc:
        raise QuizgenError(f"{out}: cannot undo an interrupted build ({exc}); nothing else was changed") from None
    if recovered and notify:
        notify(f"an earlier build into {out} was interrupted; its files were put back as they were")
    clean_stale(out)


def build(project: Project, out: str, formats, options: Options | None = None) -> list[str]:
    """Write every chosen format for `project` into `out` (locked, all or nothing); return the files written."""
    out = os.path.abspath(out)
    with OutLock(out):
        settle(out)
        return build_locked(project, out, resolve_formats(formats), options or Options())[0]


def build_locked(project: Project, out: str, chosen: list[str], options: Options) -> tuple[list[str], dict]:
    """Run the writers into a staging folder beside OUT and publish them (OUT locked and settled).

    Returns the files written (relative) and the SHA-256 of each as staged, which is what the
    manifest records: what this build wrote, whatever else may be in OUT."""
    writers = registry()
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
    try:
        tmp, held = make_staging(out)
    except OSError as exc:
        raise QuizgenError(f"cannot write beside {out}: {exc.strerror or exc}") from None
    try:
        try:
            written: list[str] = []
            for name in chosen:
                if options.progress:
                    options.progress(f"writing {name}")
                written += writers[name].write(project, tmp, options)
            if options.extra.get("previous") is not None and "note_digests" in options.report:
                written.append(write_changes(tmp, project, options))
            written = list(dict.fromkeys(written))
            digests = {rel: file_digest(os.path.join(tmp, rel)) for rel in written}
        except OSError as exc:
            raise QuizgenError(f"build failed, nothing in {out} was changed: {describe(exc)}") from None
        except sqlite3.OperationalError as exc:
            if "full" not in str(exc) and "disk" not in str(exc):  # SQLITE_FULL / SQLITE_IOERR: the disk
                raise
            raise QuizgenError(f"build failed, nothing in {out} was changed: {exc}") from None
        step()
        preflight(out, written)  # before the lock file is saved, so that nothing changes when OUT is blocked
        lock = options.lock
        if isinstance(lock, Lock) and lock.changed:
            # Saved before publishing: a note time is on record before any package carries it, so a
            # build killed after publishing can never stamp the same content again with a newer time.
            try:
                lock.save()
            except OSError as exc:
                message = f"{LOCK_FILE}: cannot save it ({describe(exc)}); nothing in {out} was changed"
                raise QuizgenError(message) from None
        step()
        publish(tmp, out, written)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        os.close(held)
    return written, digests


def describe(exc: OSError) -> str:
    """An OSError in words, with the file when it has one ('No space left on device: .../x.apkg')."""
    if exc.filename and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    return exc.strerror or str(exc)


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


def write_changes(tmp: str, project: Project, options: Options) -> str:
    """CHANGES.md: what importing these packages will do, compared with the previous build.

    Only notes whose digests differ are read in full: old ones from the old packages, new ones
    made again (for their fact files only) by the Anki writer's own code, so this stays cheap at
    100,000 notes.  Its warnings (an id that looks renamed) are also the build's, for the terminal."""
    from .diff import compare, packages_snapshot, project_snapshot, render

    extra, digests = options.extra, options.report["note_digests"]
    previous = extra["previous"]
    changed_ids = {fact_id for fact_id, d in digests.items() if previous.get(fact_id) != d}
    differing = (changed_ids | (set(previous) - set(digests))) & set(previous)
    old = packages_snapshot(extra["previous_paths"], only=differing) if differing else {}
    new = project_snapshot(project, only=changed_ids) if changed_ids else {}
    unchanged = len(digests) - len(changed_ids)
    result = compare(old, new, unchanged)
    options.report.setdefault("warnings", []).extend(result.warnings)
    text = render(result, "markdown")
    text = text.replace("# Changes", "# Changes since the previous build", 1)
    with open(os.path.join(tmp, "CHANGES.md"), "w", encoding="utf-8") as fh:
        fh.write(text)
    return "CHANGES.md"
