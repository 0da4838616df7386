"""What every reader produces: facts as plain fields with the place they came from, before ids and sources.

A reader (table, quizlet, apkg) turns its input into `Draft`s and located
problems; it knows nothing about the project.  `plan.py` then gives each draft
an id and a source, writes the fact files as text, and validates that text with
quizgen's own validator, mapping every problem back to the draft's `origin`
(`file:row`), so that a spreadsheet's author is told about row 7, not about a
YAML file they never saw.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from ..errors import Problem

# Generous for a flashcard, small enough that a hostile input cannot make one fact file huge.
MAX_FIELD_CHARS = 20_000


@dataclass
class Draft:
    """One fact to be: `fields` maps fact keys to str, {lang: str}, lists, or yamltext.Plain."""

    deck: str
    fields: dict
    origin: Problem  # path and line of the row/note it came from; the message is a label ("note 12")
    notes: list[str] = field(default_factory=list)  # what could not be carried over, for the report
    media: dict[str, tuple[str, str]] = field(default_factory=dict)  # "image" -> (safe file name, file to copy)
    guid: str = ""  # the Anki note's GUID, when the fact comes from a package


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")


def clean(text: str) -> str:
    """Text as a fact holds it: NFC, Unix line ends, no control characters, no surrounding blanks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _CONTROL.sub("", text)).strip()


# Revised Romanization of Korean, letter by letter (no sound-change rules): enough for readable ids.
_INITIAL = "g kk n d tt r m b pp s ss - j jj ch k t p h".split()
_MEDIAL = "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()
_FINAL = "- k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()


def romanize(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            parts = (_INITIAL[code // 588], _MEDIAL[code % 588 // 28], _FINAL[code % 28])
            out.append("".join(p for p in parts if p != "-"))
        else:
            out.append(ch)
    return "".join(out)


_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::.*?)?\}\}", re.S)
MAX_ID_CHARS = 48


def id_slug(text: str) -> str:
    """The readable part of an id: lowercase ASCII words of the prompt, Korean romanized, at most ~48 chars."""
    text = _CLOZE.sub(r"\1", text)
    text = unicodedata.normalize("NFKD", romanize(unicodedata.normalize("NFC", text)))
    words = re.findall(r"[a-z0-9]+", text.encode("ascii", "ignore").decode().lower())
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > MAX_ID_CHARS:
            break
        out = candidate
    return out or (words[0][:MAX_ID_CHARS] if words else "")


def prompt_slug(prompt) -> str:
    """Slug of a prompt (str or {lang: str}); English first when present, since it romanizes best."""
    texts = [prompt] if isinstance(prompt, str) else sorted(prompt.values(), key=lambda t: t != prompt.get("en"))
    for text in texts:
        found = id_slug(text)
        if found:
            return found
    joined = "\n".join(texts)
    return "fact-" + hashlib.sha256(joined.encode()).hexdigest()[:8]


def unique(base: str, taken: set[str]) -> str:
    """base, base-2, base-3, ...: the first one not taken (and take it).  Input order decides, so it is stable."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate
