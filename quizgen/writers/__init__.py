"""Output formats.  Each module in this package that defines `FORMAT` is a writer.

A writer module provides:

    FORMAT = "apkg"                 # the name used with --format
    DESCRIPTION = "Anki packages"   # one line for --help
    def write(project, out_dir, options) -> list[str]   # files written, relative to out_dir
    def available() -> str | None   # optional: None when the format can be written here, else why not

`write` receives a validated `Project` and writes into `out_dir`, which is a
private temporary folder: the build moves the files to `--out` only when every
writer has succeeded.  Adding a format means adding one module here; the
registry below finds it, and the CLI lists it.  A writer that needs something outside
Python (the PDF writer needs a browser) says so through `available()`: an explicit
`--format` then fails with that message, and `all` skips the writer with a warning.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType


@dataclass
class Options:
    """Everything a writer may need beyond the project; writers ignore what they do not use."""

    lang: str | None = None  # html and apkg: a project language or both; None: the project's default (both)
    apkg: str | None = None  # apkg: per-deck | one; None: quizgen.yaml's anki.package (default per-deck)
    forms: int = 1  # html: number of shuffled forms
    seed: str = "quizgen"  # html: shuffle seed
    lock: object = None  # anki: the project's Lock (note modification times)
    epoch: int | None = None  # SOURCE_DATE_EPOCH, for timestamps inside packages
    progress: object = None  # callable(str) for progress lines, or None
    memo: Callable = field(default=lambda kind, fact_file, compute, check=None: compute())
    # memo(kind, fact_file, compute, check): a writer's pure per-file work, e.g.
    # memo("anki-rows", f, lambda: rows(f), valid_rows).  The build passes one that caches the result
    # as plain data (JSON: lists, dicts, str, int, bool, None); a stored copy is reused only when
    # check(value) is true, so a writer states the shape of what it computes and never sees the cache.
    memo_content: Callable = field(default=lambda kind, key, compute: compute())
    # memo_content(kind, key, compute): bytes that depend only on `key` (a digest of all their inputs, e.g.
    # a page's HTML and the browser that prints it); the build keeps them across builds.
    report: dict = field(default_factory=dict)  # what writers tell the build about their output (note digests)
    extra: dict = field(default_factory=dict)


def registry() -> dict[str, ModuleType]:
    """format name -> writer module, discovered from this package."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "FORMAT") and hasattr(module, "write"):
            found[module.FORMAT] = module
    return dict(sorted(found.items()))
