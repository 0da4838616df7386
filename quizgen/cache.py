"""The build cache: never trusted, only verified.

Lives in `OUT/.quizgen-cache/` (never inside the project's decks/).  Two things are kept:

- entries: pickled results of pure, expensive steps (a parsed fact file; a fact file's
  Anki rows), each stored under a key that hashes *everything* the result depends on
  (quizgen's own code, the file's bytes, the project's languages and sources, ...).
  Each entry starts with the SHA-256 of its payload, so a truncated or altered entry is
  detected and ignored; a stale one simply has a different key.  Entries not used by a
  build are pruned at its end, so the cache stays the size of one build.
- a manifest: the fingerprint of the last successful build's inputs and the hashes of
  the files it wrote.  When the inputs and the files in OUT are unchanged, the build
  has nothing to do.

Pickle runs code on load, so only the user's own output folder is ever read, and only
after the checksum matches what this code wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile

from . import __version__

DIRNAME = ".quizgen-cache"
MANIFEST = "manifest.json"


def digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: str) -> str:
    """SHA-256 of a file, read once per process while its size and mtime are unchanged.

    A build hashes each input up to three times (the no-op check, the parse cache key, the
    manifest); the memo makes that one read.  `forget_digests()` starts each build afresh, so a
    long-lived process never trusts a digest across an edit that kept size and mtime.
    """
    st = os.stat(path)
    memo = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    if memo not in _DIGESTS:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _DIGESTS[memo] = h.hexdigest()
    return _DIGESTS[memo]


def forget_digests() -> None:
    _DIGESTS.clear()


_CODE: str | None = None


def code_fingerprint() -> str:
    """quizgen's version, its Python sources and its shipped templates: any change invalidates the cache."""
    global _CODE
    if _CODE is None:
        from .resources import SHIPPED

        package = os.path.dirname(os.path.abspath(__file__))
        parts = [__version__]
        for base in (package, SHIPPED):
            for dirpath, dirnames, names in os.walk(base):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                for name in sorted(names):
                    if name.endswith((".py", ".j2", ".css", ".html")):
                        path = os.path.join(dirpath, name)
                        parts += [os.path.relpath(path, base), file_digest(path)]
        _CODE = digest(*parts)
    return _CODE


class Cache:
    def __init__(self, out_dir: str):
        self.dir = os.path.join(os.path.abspath(out_dir), DIRNAME)
        self.used: set[str] = set()
        self.pending: dict[str, bytes] = {}
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> str:
        return os.path.join(self.dir, key[:2], key + ".pickle")

    def get(self, key: str):
        self.used.add(key)
        try:
            with open(self._path(key), "rb") as fh:
                data = fh.read()
        except OSError:
            self.misses += 1
            return None
        check, payload = data[:32], data[32:]
        if len(data) < 32 or hashlib.sha256(payload).digest() != check:
            self.misses += 1
            return None
        try:
            value = pickle.loads(payload)
        except Exception:  # a corrupt entry is ignored, never trusted
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str, value) -> None:
        """Held in memory until `commit`: a failed build must not touch the output folder at all."""
        self.used.add(key)
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self.pending[key] = hashlib.sha256(payload).digest() + payload

    def commit(self, manifest: dict) -> None:
        """After a successful build: write new entries and the manifest, drop unused entries."""
        for key, data in self.pending.items():
            self._write(self._path(key), data)
        self.pending.clear()
        self._write(os.path.join(self.dir, MANIFEST), json.dumps(manifest, sort_keys=True).encode("utf-8"))
        self.prune()

    def _write(self, path: str, data: bytes) -> None:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs speed

    def prune(self) -> None:
        """Delete entries this build did not use."""
        if not os.path.isdir(self.dir):
            return
        for sub in os.listdir(self.dir):
            folder = os.path.join(self.dir, sub)
            if not os.path.isdir(folder):
                continue
            for name in os.listdir(folder):
                if name.endswith(".pickle") and name[:-7] not in self.used or name.startswith(".tmp-"):
                    try:
                        os.remove(os.path.join(folder, name))
                    except OSError:
                        pass

    # -- the manifest of the last build ---------------------------------------------------

    def read_manifest(self) -> dict:
        try:
            with open(os.path.join(self.dir, MANIFEST), encoding="utf-8") as fh:
                data = json.load(fh)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}
