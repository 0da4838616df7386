"""Run the writers and publish their output atomically.

Writers write into a private temporary folder beside `--out`.  Only when every
writer has finished are the files moved into `--out` (each with an atomic
rename), so a failed build, whatever the reason, leaves every file already in
`--out` byte-for-byte as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

from .errors import QuizgenError
from .lock import Lock
from .model import Project
from .writers import Options, registry


def source_date_epoch() -> int | None:
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise QuizgenError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {value!r}") from None


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


def build(project: Project, out: str, formats, options: Options | None = None) -> list[str]:
    """Write every chosen format for `project` into `out`; return the files written (relative)."""
    options = options or Options()
    writers = registry()
    chosen = resolve_formats(formats)
    if options.epoch is None:
        options.epoch = source_date_epoch()
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
        publish(tmp, out, written)
    except OSError as exc:
        raise QuizgenError(f"build failed, nothing in {out} was changed: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lock = options.lock
    if isinstance(lock, Lock) and lock.changed:
        lock.save()
    return written


def publish(tmp: str, out: str, written: list[str]) -> None:
    os.makedirs(out, exist_ok=True)
    for rel in written:
        target = os.path.join(out, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(os.path.join(tmp, rel), target)
