"""Every identifier Anki sees, in one place, derived so that it never changes.

Anki matches an imported note to the one a learner already has by its GUID,
decks by name/id, and notetypes by id.  If any of these drifted between
builds, a re-import would create duplicates or orphan review history.  So:
GUIDs come from the project's identity and the fact id only (never from the
text, which is what genanki does by default), deck ids from the deck name,
notetype ids are constants, and note/card ids are derived the same way as
GUIDs, which keeps output bytes reproducible.

The project identity (`id:` in quizgen.yaml, a random value written by
`quizgen init`) is part of every GUID and note/card id: two courses that both
have a fact `vocab-1` are two different notes in a learner's collection, and
importing one course never overwrites the other's cards.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata

# Fixed forever: changing one breaks updates for every learner who imported a deck.
NOTETYPE_IDS = {
    "basic": 1_742_000_000_001,
    "choice": 1_742_000_000_002,
    "cloze": 1_742_000_000_003,
    "truefalse": 1_742_000_000_004,
}
_GUID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"


def _digest(kind: str, value: str) -> int:
    return int.from_bytes(hashlib.sha256(f"quizgen:{kind}:{value}".encode()).digest()[:8], "big")


def new_project_id() -> str:
    """A fresh project identity for quizgen.yaml: random, so no two courses share one."""
    return secrets.token_hex(8)


def _scoped(project_id: str, fact_id: str) -> str:
    return f"{project_id}/{fact_id}"


def note_guid(project_id: str, fact_id: str) -> str:
    """A 10-character Anki GUID (Anki's own base-91 alphabet) from the project and fact ids alone."""
    n = _digest("guid", _scoped(project_id, fact_id))
    out = []
    for _ in range(10):
        n, r = divmod(n, len(_GUID_ALPHABET))
        out.append(_GUID_ALPHABET[r])
    return "".join(out)


def note_key(fact_id: str, variant: str = "") -> str:
    """The identity of a fact's note in one package variant: the fact id, or `fact-id@ko` for a
    one-language build.  A one-language package holds other notes than the bilingual one (its own
    GUIDs, note and card ids, lock entries), so the two never overwrite each other in a collection."""
    return f"{fact_id}@{variant}" if variant else fact_id


def layout_id(kind: str, name: str) -> int:
    """A stable id for a notetype's field or template (Anki 2.1.67+ merges notetypes by these ids)."""
    return _digest("layout", f"{kind}:{name}") % (1 << 62)


def _id_in_range(kind: str, value: str) -> int:
    # Anki ids are millisecond timestamps by convention; stay in a plausible, positive 53-bit range
    # (JavaScript in the card viewer handles ids as doubles).
    return 1_000_000_000_000 + _digest(kind, value) % 8_000_000_000_000


def deck_id(deck_name: str) -> int:
    return _id_in_range("deck", deck_name)


def note_id(project_id: str, fact_id: str) -> int:
    return _id_in_range("note", _scoped(project_id, fact_id))


def card_id(project_id: str, fact_id: str, ordinal: int) -> int:
    return _id_in_range("card", f"{_scoped(project_id, fact_id)}#{ordinal}")


def slug(name: str) -> str:
    """A filesystem-safe, stable file name for a deck ('DeepSeek::MoE' -> 'deepseek-moe')."""
    text = unicodedata.normalize("NFKC", name).replace("::", "-")
    text = re.sub(r"[^\w.-]+", "-", text, flags=re.U).strip("-._").lower()
    return re.sub(r"-{2,}", "-", text) or "deck"


def file_stem(rel: str) -> str:
    """The name a fact file's pages start with ('decks/unit/a.yaml' -> 'unit-a'), before numbering."""
    rel = rel[len("decks/") :] if rel.startswith("decks/") else rel
    return slug(os.path.splitext(rel)[0].replace("/", "-")) or "quiz"


def anki_tag(tag: str) -> str:
    """Anki tags cannot contain spaces; keep them readable with underscores."""
    return re.sub(r"\s+", "_", tag.strip())
