"""Fact files and source records as YAML *text*, written so that quizgen's loader reads back exactly what went in.

Why not `yaml.dump`: PyYAML chooses plain, single-quoted or block styles by itself,
wraps long lines, and decides by YAML 1.1 rules what needs quotes; a value such
as `Yes`, `3.10`, `- x`, `#tag` or `a: b` then depends on those rules being the
same in every reader.  Here every string is written double-quoted with every
character that could be read differently escaped (quotes, backslashes, line
breaks, control and non-printable characters, byte-order marks), and everything
else (Korean included) is written as itself so that the files stay readable.
Keys and language codes are quizgen's own identifiers, never user text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Everything PyYAML's reader accepts as printable, minus what YAML treats as a line break or
# a byte-order mark; the rest is escaped.  '"' and '\\' are the double-quoted style's own syntax.
_NEEDS_ESCAPE = re.compile(
    '[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]|["\\\\]'
)
_SHORT = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def _escape(match: re.Match) -> str:
    ch = match.group(0)
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def quote(text: str) -> str:
    """One double-quoted YAML scalar that loads back as exactly `text`."""
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


@dataclass(frozen=True)
class Plain:
    """A value written without quotes: only quizgen's own words (`true`/`false` of a truefalse answer)."""

    word: str


def value(item) -> str:
    """A flow value: a string, a language mapping, a list of strings, or a Plain word."""
    if isinstance(item, Plain):
        return item.word
    if isinstance(item, str):
        return quote(item)
    if isinstance(item, dict):
        return "{" + ", ".join(f"{lang}: {quote(text)}" for lang, text in item.items()) + "}"
    if isinstance(item, (list, tuple)):
        return "[" + ", ".join(value(x) for x in item) + "]"
    raise TypeError(f"cannot write {type(item).__name__} as a fact value")


# The order keys are written in: identity first, then what the learner sees, then bookkeeping.
KEY_ORDER = (
    "id", "type", "question", "text", "statement", "answer", "wrong", "explanation",
    "source", "quote", "cite", "tags", "image", "anki_guid",
)  # fmt: skip


def fact_lines(fields: dict) -> list[str]:
    """One fact as list-item lines (`  - id: ...`); `wrong` gets one line per option."""
    lines = []
    for key in sorted(fields, key=KEY_ORDER.index):
        item = fields[key]
        lead = "  - " if not lines else "    "
        if key in ("wrong", "cite"):  # one line per option / citation ({source: ..., quote: ...})
            lines.append(f"{lead}{key}:")
            lines.extend(f"      - {value(w)}" for w in item)
        else:
            lines.append(f"{lead}{key}: {value(item)}")
    return lines


def fact_file(deck: str, facts: list[dict], header: str = "") -> tuple[str, list[int]]:
    """The text of a fact file, and the 1-based line where each fact starts (to locate problems)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines += [f"deck: {quote(deck)}", "facts:"]
    starts = []
    for fields in facts:
        starts.append(len(lines) + 1)
        lines.extend(fact_lines(fields))
    return "\n".join(lines) + "\n", starts


def source_entry(source_id: str, fields: dict[str, str]) -> str:
    """One record for decks/sources.yaml (block style, so it can be appended to a block mapping)."""
    lines = [f"{source_id}:"]
    lines += [f"  {key}: {quote(text)}" for key, text in fields.items() if text]
    return "\n".join(lines) + "\n"
