"""The build cache: plain data, bound to its key, authenticated, and never trusted beyond that.

Lives in `OUT/.quizgen-cache/`.  Two things are kept:

- entries: the results of pure, expensive steps (a parsed fact file; a fact file's Anki
  rows), each under a key that hashes *everything* the result depends on (quizgen's own
  code, the file's bytes, the project's languages and sources, ...).  Entries not used by
  a build are pruned at its end, so the cache stays the size of one build.
- a manifest: the fingerprint of the last successful build's inputs and the hashes of the
  files it wrote.  When the inputs and the files in OUT are unchanged, the build has
  nothing to do.

Why it is safe to read a cache that someone else wrote (a `dist/` committed to git, an OUT
others can write to):

- **No code, no objects.**  An entry is JSON: lists, strings, integers, booleans, null.  The
  caller turns it back into model objects with explicit converters (plain.py; the Anki
  writer's `valid_rows`) that check every field's type; anything else is a miss.
- **Key-bound and authenticated.**  Each file is `MAGIC + HMAC-SHA256(secret, key, payload) +
  payload`.  The key is inside the MAC, so a genuine entry copied under another key (an old
  question served for a new file) is a miss.  The secret is per user, 32 random bytes in
  `$XDG_CACHE_HOME/quizgen/cache-key` (mode 0600), never in OUT: a cache copied from another
  machine or another user, or forged by anyone who can write OUT but not the user's home,
  never verifies, so it is rebuilt rather than believed.  (Without a usable home, a
  per-process secret is used: the cache then only ever misses.)
- **Regular files only, bounded.**  Files are opened without following a final symlink and
  non-blocking, checked with fstat to be regular, and read up to a size limit, so a FIFO,
  a device or a link to /dev/zero is a miss, not a hang or a MemoryError.  The cache folder
  and its sub-folders must be real folders (not links) before anything is written or
  pruned, so a planted link cannot make the build write or delete outside OUT.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import tempfile

from . import __version__

DIRNAME = ".quizgen-cache"
MANIFEST = "manifest"
MAGIC = b"quizgen-cache-2\n"
MAX_ENTRY_BYTES = 256 << 20  # far above any real entry (a 10,000-fact file is ~5 MB)
_KEY_RE = re.compile(r"[0-9a-f]{64}")
_TAG = 32


# ---------------------------------------------------------------------------------------
# reading files that may be hostile


def open_regular(path: str, follow: bool = False) -> int:
    """An fd for a regular file: no blocking on a FIFO, no device, no final symlink unless `follow`.

    Raises OSError for anything else, so callers treat it like a missing file."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: str, limit: int, follow: bool = False) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (OSError otherwise)."""
    fd = open_regular(path, follow)
    with os.fdopen(fd, "rb") as fh:
        if os.fstat(fh.fileno()).st_size > limit:
            raise OSError(f"{path}: larger than {limit} bytes")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path}: larger than {limit} bytes")
    return data


def digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: str) -> str:
    """SHA-256 of a regular file (following links), read once per process while its size and mtime hold.

    A build hashes each input up to three times (the no-op check, the parse cache key, the
    manifest); the memo makes that one read.  `forget_digests()` starts each build afresh, so a
    long-lived process never trusts a digest across an edit that kept size and mtime.  A FIFO or
    device raises OSError (never a hang)."""
    fd = open_regular(path, follow=True)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        memo = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
        if memo not in _DIGESTS:
            h = hashlib.sha256()
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


# ---------------------------------------------------------------------------------------
# the secret


_PROCESS_SECRET = secrets.token_bytes(32)


def key_path() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "quizgen", "cache-key")


def _usable_key(path: str) -> bytes | None:
    try:
        fd = open_regular(path)
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o077:  # someone else could read or forge with it
                return None
            data = fh.read(33)
    except OSError:
        return None
    return data if len(data) == 32 else None


def user_secret() -> bytes:
    """The per-user cache secret, created once (atomically: the first writer wins)."""
    path = key_path()
    found = _usable_key(path)
    if found is not None:
        return found
    try:
        folder = os.path.dirname(path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".cache-key-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
            try:
                os.link(tmp, path)  # never replaces a key another process just made
            except FileExistsError:
                if _usable_key(path) is None:  # a damaged or foreign key: replace it
                    os.replace(tmp, path)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
    except OSError:
        pass
    return _usable_key(path) or _PROCESS_SECRET


# ---------------------------------------------------------------------------------------


def real_dir(path: str, create: bool = False) -> bool:
    """Whether `path` is a folder and not a link (made first when `create`)."""
    if create:
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            pass
        except OSError:
            return False
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


class Cache:
    def __init__(self, out_dir: str):
        self.out = os.path.abspath(out_dir)
        self.dir = os.path.join(self.out, DIRNAME)
        self.secret = user_secret()
        self.used: set[str] = set()
        self.pending: dict[str, bytes] = {}
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> str:
        return os.path.join(self.dir, key[:2], key + ".json")

    def _tag(self, key: str, payload: bytes) -> bytes:
        mac = hmac.new(self.secret, digestmod=hashlib.sha256)
        mac.update(MAGIC)
        mac.update(key.encode("ascii") + b"\0")
        mac.update(payload)
        return mac.digest()

    def _load(self, key: str, path: str):
        """The plain value stored for `key`, or None for anything missing, damaged, foreign or odd."""
        try:
            data = read_regular(path, MAX_ENTRY_BYTES)
        except OSError:
            return None
        head, tag, payload = data[: len(MAGIC)], data[len(MAGIC) : len(MAGIC) + _TAG], data[len(MAGIC) + _TAG :]
        if head != MAGIC or not hmac.compare_digest(tag, self._tag(key, payload)):
            return None
        try:
            return json.loads(payload.decode("utf-8"), parse_constant=_no_constant)
        except (ValueError, RecursionError):  # our own bytes, so only an older quizgen's: a miss
            return None

    def get(self, key: str, decode=None):
        """The entry for `key` as plain data (or `decode(plain)`, where `decode` raises ValueError on
        odd data), or None."""
        self.used.add(key)
        value = self._load(key, self._path(key)) if _KEY_RE.fullmatch(key) else None
        if value is not None and decode is not None:
            try:
                value = decode(value)
            except (ValueError, TypeError, RecursionError):
                value = None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, key: str, value, default=None) -> None:
        """Held in memory until `commit`: a failed build must not touch the output folder at all.

        `value` must be plain data (tuples are fine: they come back as lists), or become plain data
        through `default`, json.dumps's hook for other objects."""
        if not _KEY_RE.fullmatch(key):
            raise ValueError(f"cache keys are SHA-256 hex digests, not {key!r}")
        self.used.add(key)
        self.pending[key] = self._encode(key, value, default)

    def _encode(self, key: str, value, default=None) -> bytes:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=default)
        payload = text.encode("utf-8")
        return MAGIC + self._tag(key, payload) + payload

    def commit(self, manifest: dict) -> None:
        """After a successful build: write new entries and the manifest, drop unused entries.

        Every failure here only costs speed (the next build misses), so OSError is swallowed."""
        if not real_dir(self.out) or not real_dir(self.dir, create=True):
            self.pending.clear()
            return
        for key, data in self.pending.items():
            if real_dir(os.path.dirname(self._path(key)), create=True):
                self._write(self._path(key), data)
        self.pending.clear()
        self._write(os.path.join(self.dir, MANIFEST + ".json"), self._encode(digest(MANIFEST), manifest))
        self.prune()

    def _write(self, path: str, data: bytes) -> None:
        try:
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            pass

    def prune(self) -> None:
        """Delete entries this build did not use (and any an older quizgen left, such as pickles).

        Only files quizgen names (`<64 hex>.json`, `.pickle`, `.tmp-*`) in real two-hex-digit
        folders are touched."""
        try:
            subs = os.listdir(self.dir)
        except OSError:
            return
        for sub in subs:
            folder = os.path.join(self.dir, sub)
            if not re.fullmatch(r"[0-9a-f]{2}", sub) or not real_dir(folder):
                continue
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for name in names:
                stale = name.startswith(".tmp-") or name.endswith(".pickle")
                if name.endswith(".json") and _KEY_RE.fullmatch(name[:-5]):
                    stale = name[:-5] not in self.used
                if stale:
                    try:
                        os.remove(os.path.join(folder, name))
                    except OSError:
                        pass
        for name in ("manifest.json.old", "manifest.pickle"):
            if os.path.lexists(os.path.join(self.dir, name)):
                try:
                    os.remove(os.path.join(self.dir, name))
                except OSError:
                    pass

    # -- the manifest of the last build ---------------------------------------------------

    def read_manifest(self) -> dict:
        """The last build's manifest, checked field by field; {} when absent, damaged or odd."""
        value = self._load(digest(MANIFEST), os.path.join(self.dir, MANIFEST + ".json"))
        return manifest_from_plain(value)


def _no_constant(name: str):
    raise ValueError(f"{name} is not plain data")


_HEX64 = re.compile(r"[0-9a-f]{64}")


def safe_rel(rel) -> bool:
    """A relative path of plain components (no '..', no absolute, no NUL or backslash)."""
    if type(rel) is not str or not rel or "\0" in rel or "\\" in rel or rel.startswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in rel.split("/"))


def manifest_from_plain(value) -> dict:
    if type(value) is not dict:
        return {}
    inputs, outputs, images, facts = (value.get(k) for k in ("inputs", "outputs", "images", "facts"))
    if type(inputs) is not str or not _HEX64.fullmatch(inputs):
        return {}
    if type(outputs) is not dict or not all(safe_rel(k) and type(v) is str for k, v in outputs.items()):
        return {}
    if type(images) is not list or not all(safe_rel(i) for i in images):
        return {}
    if type(facts) is not int or facts < 0:
        return {}
    return {"inputs": inputs, "outputs": outputs, "images": images, "facts": facts}
