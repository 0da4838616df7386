"""quizgen.lock: when did each fact's note last change?

Anki updates a note on import only when the incoming note's modification time
is *newer* than the learner's copy; an older or equal one is skipped silently.
So note times must grow exactly when a fact's content changes and stay put
otherwise (so that unchanged notes, including any a learner edited in Anki,
are left alone, and so that two builds of the same inputs are byte-identical).

The wall clock cannot give that, and neither can SOURCE_DATE_EPOCH (a fixed
epoch would freeze every later edit out).  The lock file records, per fact id,
a hash of the note content as last built and the time it got.  A fact whose
hash changed gets max(now, previous + 1): always newer than before, even when
`now` is a fixed SOURCE_DATE_EPOCH.  Commit quizgen.lock with the facts so that
every machine builds the same bytes.

Entries are never dropped, not even for a fact that was removed or renamed: a
learner's collection keeps such a note forever (Anki never deletes on import),
so the lock must remember what the learner last got.  A fact id that comes back
with its old content then keeps its old time (a rename reverted does not
overwrite the learner's own edits), and one that comes back changed gets a time
newer than anything built before (even under an older SOURCE_DATE_EPOCH).
"""

from __future__ import annotations

import json
import os
import re
import tempfile

from .cache import read_regular
from .errors import Problem, QuizgenError

LOCK_FILE = "quizgen.lock"
VERSION = 1
MAX_BYTES = 256 << 20  # ~2,000,000 facts
MAX_TIME = 253_402_300_799  # 9999-12-31 23:59:59 UTC: the last second a note time can be shown as a date
_DIGEST = re.compile(r"[0-9a-f]{16}")
_KEY = re.compile(r'[^"\\\x00-\x1f\x7f]{1,512}')  # what save() can write without JSON escapes
_SHAPE = 'must be {"version": 1, "facts": {"fact-id": ["<16 hex digits>", <seconds>], ...}}'


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number quizgen writes")


def _unreadable(line: int, message: str, problems: list[Problem] | None = None) -> QuizgenError:
    return QuizgenError(
        f"{LOCK_FILE}: {message}; restore it from git, or delete it to start afresh "
        "(deleting makes every note newer, so a re-import refreshes all notes)"
        if not problems
        else f"{LOCK_FILE} is damaged; restore it from git, or delete it to start afresh "
        "(deleting makes every note newer, so a re-import refreshes all notes)",
        problems or ([Problem(LOCK_FILE, line, message)] if line else None),
    )


def _line(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 0


def _entries(data, text: str) -> dict[str, tuple[str, int]]:
    if type(data) is not dict:
        raise _unreadable(1, f"{_SHAPE}, not {_json_kind(data)}")
    if data.get("version") != VERSION or type(data.get("version")) is not int:
        raise _unreadable(_line(text, '"version"') or 1, f"unknown version {data.get('version')!r}; {_SHAPE}")
    facts = data.get("facts")
    if type(facts) is not dict:
        raise _unreadable(_line(text, '"facts"') or 1, f"facts: {_SHAPE}, not {_json_kind(facts)}")
    entries: dict[str, tuple[str, int]] = {}
    problems: list[Problem] = []
    for key, value in facts.items():
        ok = (
            _KEY.fullmatch(key)
            and type(value) is list
            and len(value) == 2
            and type(value[0]) is str
            and _DIGEST.fullmatch(value[0])
            and type(value[1]) is int
            and 0 <= value[1] <= MAX_TIME
        )
        if ok:
            entries[key] = (value[0], value[1])
        elif len(problems) < 20:
            where = _line(text, json.dumps(key)) or 1
            problems.append(
                Problem(LOCK_FILE, where, f'{key[:60]!r}: expected ["<16 hex digits>", <seconds 0..{MAX_TIME}>]')
            )
    if problems:
        raise _unreadable(0, "", problems)
    return entries


def _json_kind(value) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), "something else")


class Lock:
    """`old`: the entries as loaded; `entries`: those stamped by this build (the rest are kept as they were)."""

    def __init__(self, path: str, entries: dict[str, tuple[str, int]], now: int):
        self.path = path
        self.old = entries
        self.entries: dict[str, tuple[str, int]] = {}
        self.now = now

    @classmethod
    def load(cls, root: str, now: int) -> Lock:
        """The lock as committed; QuizgenError naming the file and line for anything but a well-formed lock.

        The file is input like any other (a clone may carry a hand-edited or hostile one): it is read
        only when it is a regular file under MAX_BYTES, and every entry must be an id mapped to
        [16 hex digits, a time from 0 to MAX_TIME] (no floats, Infinity, huge numbers or nesting)."""
        path = os.path.join(root, LOCK_FILE)
        if not os.path.lexists(path):
            return cls(path, {}, now)
        try:
            text = read_regular(path, MAX_BYTES).decode("utf-8")
        except OSError as exc:
            raise _unreadable(0, f"cannot read it ({exc.strerror or exc})") from None
        except UnicodeDecodeError:
            raise _unreadable(0, "is not UTF-8 text") from None
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise _unreadable(exc.lineno, f"not valid JSON ({exc.msg})") from None
        except (ValueError, RecursionError) as exc:  # Infinity/NaN, a 5,000-digit number, deep nesting
            message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise _unreadable(0, f"not a lock file ({message})") from None
        return cls(path, _entries(data, text), now)

    def stamp(self, fact_id: str, digest: str) -> int:
        """The modification time (seconds) for a note whose content hashes to `digest`."""
        previous = self.old.get(fact_id)
        if previous and previous[0] == digest:
            mod = previous[1]
        else:
            mod = max(self.now, previous[1] + 1) if previous else self.now
        self.entries[fact_id] = (digest, mod)
        return mod

    def merged(self) -> dict[str, tuple[str, int]]:
        """What the lock file holds after this build: every entry ever stamped, the newest stamp of each."""
        return {**self.old, **self.entries}

    @property
    def changed(self) -> bool:
        return any(self.old.get(k) != v for k, v in self.entries.items())

    def differences(self) -> tuple[list[str], list[str], list[str]]:
        """(new, changed, removed) fact ids, after every note of a build has been stamped."""
        new = sorted(k for k in self.entries if k not in self.old)
        changed = sorted(k for k, v in self.entries.items() if k in self.old and self.old[k][0] != v[0])
        removed = sorted(k for k in self.old if k not in self.entries)
        return new, changed, removed

    def save(self) -> None:
        """Write atomically, one fact a line, sorted, so that git diffs stay readable."""
        # ids are [a-z0-9_-] and digests hex, so no JSON escaping is needed (a 100,000-fact lock writes in 0.1 s)
        lines = [f'  "{k}": ["{h}", {m}]' for k, (h, m) in sorted(self.merged().items())]
        body = f'{{"version": {VERSION}, "facts": {{\n' + ",\n".join(lines) + "\n}}\n"
        directory = os.path.dirname(self.path)
        fd, tmp = tempfile.mkstemp(prefix=".quizgen.lock.", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        os.replace(tmp, self.path)
