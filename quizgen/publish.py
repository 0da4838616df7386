"""Publishing a build into OUT: every file or none, even when the process is killed; one build at a time.

**One build per OUT.**  A build holds an exclusive `flock` on OUT's folder itself (no lock
file, so OUT's listing stays the build's own) from before it reads OUT (the no-op check, the
previous packages) until its files and cache are in place.  A second build into the same OUT
says that it waits and waits.  OUT is created for the lock when missing and removed again if
the build fails before writing anything into it.

**Staging.**  Writers write into a private folder beside OUT, `.quizgen-build-<tag>-<random>`
(`tag` is derived from OUT's name), locked by its build.  Only builds of this OUT, which hold
OUT's lock, make folders with this tag, so under that lock every such folder that nobody
holds is left over from a killed build, and `clean_stale` removes it.  Nothing else is ever
deleted (other names, other owners, links, anything still locked).

**Publishing** (`publish`), a small write-ahead journal in `OUT/.quizgen-publish/`:

1. preflight: every target is absent or a regular file, and every folder on its way a real
   folder (not a link, not a file); otherwise fail before anything changed;
2. the staging folder is renamed to `.quizgen-publish/new` (copied when OUT is on another
   filesystem);
3. `journal.json` (the files, and the folders to create) is written and fsynced: from here
   on, a rollback is possible;
4. per file: the old one (if any) is renamed to `.quizgen-publish/old/<file>`, the new one
   renamed into place; a failing rename rolls everything back at once;
5. the journal is deleted: the commit point;
6. `.quizgen-publish` (now holding only the old files) is removed.

`recover`, which every build runs first under the lock, rolls back a journal it finds (each
replaced file gets its old bytes back, each added file and folder goes) and removes a
`.quizgen-publish` without a journal (not yet started, or already committed).  So a SIGKILL at
any step leaves OUT, once the next build starts, exactly as before or exactly as after; between
the kill and that build a reader may see a mix, and `diff --against OUT` refuses to read it.
The journal is read as untrusted data (a committed `dist/` can carry one): only plain relative
paths are accepted, every folder on the way must be a real folder inside OUT, and only regular
files are moved or removed.

Tests stop the process at each step with `QUIZGEN_TEST_KILL_AT=N` (SIGKILL at the Nth step;
steps are counted from the end of staging through the end of publishing).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import stat
import tempfile

from .cache import read_regular, safe_rel
from .errors import Problem, QuizgenError

PENDING = ".quizgen-publish"
JOURNAL = "journal.json"
STAGING = ".quizgen-build-"
_steps = 0


def step() -> None:
    """A point where tests may kill the process (QUIZGEN_TEST_KILL_AT); nothing otherwise."""
    global _steps
    wanted = os.environ.get("QUIZGEN_TEST_KILL_AT")
    if not wanted:
        return
    _steps += 1
    if str(_steps) == wanted:
        os.kill(os.getpid(), signal.SIGKILL)


def _is_dir(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _is_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


# ---------------------------------------------------------------------------------------
# the lock on OUT


class OutLock:
    """`with OutLock(out, notify):` holds an exclusive flock on the folder OUT for the build."""

    def __init__(self, out: str, notify=None):
        self.out = out
        self.notify = notify
        self.fd: int | None = None
        self.created = False

    def __enter__(self) -> OutLock:
        while True:
            try:
                os.makedirs(os.path.dirname(self.out), exist_ok=True)
                try:
                    os.mkdir(self.out)
                    self.created = True
                except FileExistsError:
                    pass
                fd = os.open(self.out, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
            except NotADirectoryError:
                raise QuizgenError(f"--out {self.out}: is not a folder") from None
            except OSError as exc:
                raise QuizgenError(f"--out {self.out}: cannot create or open it ({exc.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if self.notify:
                    self.notify(f"another build is writing into {self.out}; waiting for it to finish")
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:
                pass  # a filesystem without flock: build unlocked rather than not at all
            try:  # the folder locked must still be OUT (a failed build may have removed the one it made)
                same = os.path.samestat(os.fstat(fd), os.stat(self.out))
            except OSError:
                same = False
            if same:
                self.fd = fd
                return self
            os.close(fd)
            self.created = False

    def __exit__(self, *exc) -> None:
        if self.created:  # made only for the lock and never written to: leave no trace
            try:
                os.rmdir(self.out)
            except OSError:
                pass
        if self.fd is not None:
            os.close(self.fd)  # releases the flock
            self.fd = None


# ---------------------------------------------------------------------------------------
# staging folders beside OUT


def staging_prefix(out: str) -> str:
    tag = hashlib.sha256(os.path.basename(out).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{STAGING}{tag}-"


def make_staging(out: str) -> tuple[str, int]:
    """A fresh staging folder beside OUT, and the fd that holds its lock (close it when done)."""
    tmp = tempfile.mkdtemp(prefix=staging_prefix(out), dir=os.path.dirname(out))
    fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    fcntl.flock(fd, fcntl.LOCK_EX)
    return tmp, fd


def clean_stale(out: str) -> list[str]:
    """Remove this OUT's staging folders that no running build holds (call with OUT locked)."""
    parent, prefix = os.path.dirname(out), staging_prefix(out)
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        path = os.path.join(parent, name)
        if not name.startswith(prefix):
            continue
        try:
            st = os.lstat(path)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
                continue
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # in use
        try:
            shutil.rmtree(path)  # never follows links inside
            removed.append(name)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


# ---------------------------------------------------------------------------------------
# publishing


def preflight(out: str, written: list[str]) -> list[str]:
    """The folders to create for `written`; QuizgenError (nothing touched) if anything is in the way."""
    problems, create = [], []
    for rel in written:
        if not safe_rel(rel):
            raise QuizgenError(f"internal: a writer returned the unsafe path {rel!r}")
        parts = rel.split("/")
        path = out
        for part in parts[:-1]:
            path = os.path.join(path, part)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                if path not in create:
                    create.append(path)
                continue
            except OSError as exc:
                problems.append(Problem(os.path.relpath(path, out), 0, f"cannot check it: {exc.strerror}"))
                break
            if not stat.S_ISDIR(st.st_mode):
                problems.append(Problem(os.path.relpath(path, out), 0, f"{_kind(st)} stands where the folder goes"))
                break
        else:
            target = os.path.join(out, rel)
            try:
                st = os.lstat(target)
            except FileNotFoundError:
                continue
            except OSError as exc:
                problems.append(Problem(rel, 0, f"cannot check it: {exc.strerror}"))
                continue
            if not stat.S_ISREG(st.st_mode):
                problems.append(Problem(rel, 0, f"{_kind(st)} stands where this output file goes; move it away"))
    if problems:
        problems = [Problem(f"{out}/{p.path}", 0, p.message) for p in problems]
        raise QuizgenError(f"build failed, nothing in {out} was changed", problems)
    return [os.path.relpath(p, out) for p in create]


def _kind(st) -> str:
    if stat.S_ISDIR(st.st_mode):
        return "a folder"
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    if stat.S_ISREG(st.st_mode):
        return "a file"
    return "a special file"


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish(staged: str, out: str, written: list[str]) -> None:
    """Move `written` (relative paths) from `staged` into `out`, all or none (see the module docstring).

    Call with OUT locked and recovered.  On failure OUT is as before and QuizgenError says so."""
    dirs = preflight(out, written)
    pending = os.path.join(out, PENDING)
    new = os.path.join(pending, "new")
    try:
        os.mkdir(pending)
        step()
        try:
            os.rename(staged, new)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            shutil.copytree(staged, new, symlinks=True)  # OUT is on another filesystem than its parent
        step()
        _write_journal(pending, written, dirs)
        step()
    except OSError as exc:
        shutil.rmtree(pending, ignore_errors=True)
        raise QuizgenError(f"build failed, nothing in {out} was changed: {exc}") from None
    try:
        for rel in dirs:
            os.makedirs(os.path.join(out, rel), exist_ok=True)
        old = os.path.join(pending, "old")
        for rel in written:
            target = os.path.join(out, rel)
            if os.path.lexists(target):
                os.makedirs(os.path.dirname(os.path.join(old, rel)), exist_ok=True)
                os.rename(target, os.path.join(old, rel))
                step()
            os.rename(os.path.join(new, rel), target)
            step()
    except OSError as exc:
        try:
            rollback(out)
        except (OSError, QuizgenError):
            pass  # the journal stays: the next build rolls back
        raise QuizgenError(f"build failed, nothing in {out} was changed: {exc}") from None
    os.unlink(os.path.join(pending, JOURNAL))  # the commit point
    step()
    shutil.rmtree(pending, ignore_errors=True)
    step()


def _write_journal(pending: str, written: list[str], dirs: list[str]) -> None:
    fd, tmp = tempfile.mkstemp(dir=pending, prefix=".journal-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"version": 1, "files": written, "dirs": dirs}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(tmp, os.path.join(pending, JOURNAL))
    _fsync_dir(pending)


def _read_journal(out: str, pending: str) -> tuple[list[str], list[str]]:
    where = f"{out}/{PENDING}/{JOURNAL}"
    damaged = QuizgenError(
        f"{where}: an interrupted build left a journal that cannot be read; "
        f"check the files in {out}, then delete {out}/{PENDING}"
    )
    try:
        data = json.loads(read_regular(os.path.join(pending, JOURNAL), 64 << 20).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        raise damaged from None
    if type(data) is not dict or data.get("version") != 1:
        raise damaged
    files, dirs = data.get("files"), data.get("dirs")
    if type(files) is not list or type(dirs) is not list or not all(safe_rel(p) for p in files + dirs):
        raise damaged
    return files, dirs


def _inside_real_dirs(out: str, rel: str) -> bool:
    """Every folder between OUT and `rel` is a real folder (no link can lead the rollback outside)."""
    path = out
    for part in rel.split("/")[:-1]:
        path = os.path.join(path, part)
        if not _is_dir(path):
            return False
    return True


def rollback(out: str) -> None:
    """Undo an unfinished publish whose journal is in OUT/.quizgen-publish (idempotent)."""
    pending = os.path.join(out, PENDING)
    files, dirs = _read_journal(out, pending)
    for rel in reversed(files):
        if not _inside_real_dirs(out, rel):
            continue
        target = os.path.join(out, rel)
        new, old = os.path.join(pending, "new", rel), os.path.join(pending, "old", rel)
        if not _inside_real_dirs(pending, f"old/{rel}") or not _is_file(old):
            old = ""
        if not os.path.lexists(new):  # the new file was moved into place
            if old:
                os.replace(old, target)
            elif _is_file(target):
                os.unlink(target)
        elif old:  # the old file was moved aside, the new one not yet in place
            os.replace(old, target)
    for rel in sorted(dirs, key=lambda d: -d.count("/")):
        path = os.path.join(out, rel)
        if _inside_real_dirs(out, rel) and _is_dir(path):
            try:
                os.rmdir(path)  # only when empty again
            except OSError:
                pass
    os.unlink(os.path.join(pending, JOURNAL))
    shutil.rmtree(pending, ignore_errors=True)


def pending_publish(out: str) -> bool:
    return os.path.lexists(os.path.join(out, PENDING))


def recover(out: str) -> bool:
    """Before anything else (with OUT locked): finish off an interrupted publish.  True if there was one."""
    pending = os.path.join(out, PENDING)
    if not os.path.lexists(pending):
        return False
    if not _is_dir(pending):  # a planted file or link: remove the name only
        os.unlink(pending)
        return True
    if os.path.lexists(os.path.join(pending, JOURNAL)):
        rollback(out)
    else:
        shutil.rmtree(pending, ignore_errors=True)
    return True
