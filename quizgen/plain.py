"""The model as plain data (lists, strings, integers, booleans, null) and back, checking every type.

The build cache stores parsed fact files as JSON (see cache.py), so loading one can never
construct an arbitrary object or run code.  Coming back, every value is checked against the
dataclass field it fills: anything of the wrong type, length or shape raises `Invalid`,
which the cache treats as a miss.  The decoders are derived from the field annotations in
model.py, so a new field with a known annotation needs no change here (an unknown one stops
the import with a message naming it, rather than caching something unchecked).

A Fact is a list of its field values in declaration order; a Text is the flat list
[lang1, text1, lang2, text2, ...]; `bytes` travel as hex (see `plain_leaf`).
"""

from __future__ import annotations

import dataclasses
import operator

from .model import Citation, Fact, FactFile, Text


class Invalid(ValueError):
    """Plain data that does not describe a model object (a cache miss, never a crash)."""


# -- to plain data ------------------------------------------------------------------------


def plain_leaf(value):
    """The `default` hook for json.dumps: the only non-JSON values in the model are Text and bytes.

    Tuples, strings, integers, booleans and None already are JSON, so the C encoder does the rest."""
    if type(value) is Text:
        return [part for pair in value.items for part in pair]
    if type(value) is bytes:
        return value.hex()
    if type(value) is Citation:
        return [getattr(value, name) for name, _ in _CITATION]
    raise TypeError(f"{type(value).__name__} is not part of the model's plain form")


# -- from plain data: one checking decoder per field annotation ----------------------------


def _text_in(v) -> Text:
    if type(v) is not list or not v or len(v) & 1:
        raise Invalid("not a text")
    for part in v:  # a loop, not all(...): texts have two or four parts, and this runs 200,000 times
        if type(part) is not str:
            raise Invalid("not a text")
    text = _new(Text)
    n = len(v)
    if n == 4:
        items = ((v[0], v[1]), (v[2], v[3]))
    elif n == 2:
        items = ((v[0], v[1]),)
    else:
        items = tuple(zip(v[0::2], v[1::2]))
    text.__dict__["items"] = items
    return text


def _opt_text_in(v) -> Text | None:
    return None if v is None else _text_in(v)


def _texts_in(v) -> tuple[Text, ...]:
    if type(v) is not list:
        raise Invalid("not a list of texts")
    return tuple(_text_in(t) for t in v)


def _str_in(v) -> str:
    if type(v) is not str:
        raise Invalid("not a string")
    return v


def _int_in(v) -> int:
    if type(v) is not int:
        raise Invalid("not an integer")
    return v


def _bool_in(v) -> bool:
    if type(v) is not bool:
        raise Invalid("not a boolean")
    return v


def _opt_bool_in(v) -> bool | None:
    if v is not None and type(v) is not bool:
        raise Invalid("not a boolean")
    return v


def _strs_in(v) -> tuple[str, ...]:
    if type(v) is not list or not all(type(s) is str for s in v):
        raise Invalid("not a list of strings")
    return tuple(v)


def _bytes_in(v) -> bytes:
    if type(v) is not str:
        raise Invalid("not hex")
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise Invalid("not hex") from None


def _pairs_in(v) -> tuple[tuple[str, int], ...]:
    if type(v) is not list:
        raise Invalid("not a list of pairs")
    out = []
    for pair in v:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str or type(pair[1]) is not int:
            raise Invalid("not a (string, integer) pair")
        out.append((pair[0], pair[1]))
    return tuple(out)


def _opt_number_in(v) -> int | float | None:
    if v is not None and type(v) is not int and type(v) is not float:  # JSON has no NaN or infinity here
        raise Invalid("not a number")
    return v


def _citations_in(v) -> tuple[Citation, ...]:
    if type(v) is not list:
        raise Invalid("not a list of citations")
    out = []
    for c in v:
        if type(c) is not list or len(c) != len(_CITATION):
            raise Invalid("not a citation")
        out.append(Citation(*[dec(x) for (_, dec), x in zip(_CITATION, c)]))
    return tuple(out)


_new = object.__new__
if "__slots__" in Text.__dict__ or "__slots__" in Fact.__dict__:  # _text_in and _fact_in set __dict__
    raise TypeError("plain.py builds Text and Fact as pickle does, through __dict__: update it for slots")


DECODERS = {
    "str": _str_in,
    "int": _int_in,
    "bool": _bool_in,
    "bool | None": _opt_bool_in,
    "Text | None": _opt_text_in,
    "tuple[Text, ...]": _texts_in,
    "tuple[str, ...]": _strs_in,
    "bytes": _bytes_in,
    "tuple[tuple[str, int], ...]": _pairs_in,
    "int | float | None": _opt_number_in,
    "tuple[Citation, ...]": _citations_in,
}


def _decoders(cls, skip=()) -> list[tuple[str, object]]:
    out = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        if f.type not in DECODERS:  # a new kind of field: teach DECODERS (the round-trip test says so)
            raise TypeError(f"plain.py has no decoder for {cls.__name__}.{f.name}: {f.type}")
        out.append((f.name, DECODERS[f.type]))
    return out


_CITATION = _decoders(Citation)
_FACT = _decoders(Fact)
_FILE = _decoders(FactFile, skip=("facts",))
_FACT_NAMES = [name for name, _ in _FACT]
_FILE_NAMES = [name for name, _ in _FILE]
_FACT_GET = operator.attrgetter(*_FACT_NAMES)
_FACT_TEXT = [(i, name) for i, (name, dec) in enumerate(_FACT) if dec is _opt_text_in]
_FACT_OTHER = [(i, name, dec) for i, (name, dec) in enumerate(_FACT) if dec not in (_str_in, _int_in, _opt_text_in)]


def fact_file_to_plain(ff: FactFile) -> list:
    """[[file fields...], [[fact fields...], ...]], for json.dumps(..., default=plain_leaf).

    Facts become tuples of their field values (attrgetter: no Python loop per field)."""
    return [[getattr(ff, name) for name in _FILE_NAMES], list(map(_FACT_GET, ff.facts))]


# The JSON types each field may arrive as; a row's tuple of types is checked against these once per
# distinct combination (a handful per project), then only nested values need a look of their own.
_NONE = type(None)
_JSON_TYPES = {
    _str_in: {str},
    _int_in: {int},
    _opt_text_in: {list, _NONE},
    _bool_in: {bool},
    _opt_bool_in: {bool, _NONE},
    _opt_number_in: {int, float, _NONE},
    _texts_in: {list},
    _strs_in: {list},
    _bytes_in: {str},
    _pairs_in: {list},
    _citations_in: {list},
}
_FACT_ALLOWED = [_JSON_TYPES[dec] for _, dec in _FACT]
_FACT_SIGS: set[tuple[type, ...]] = set()


def _check_signature(sig: tuple) -> None:
    if len(sig) != len(_FACT_ALLOWED) or not all(t in allowed for t, allowed in zip(sig, _FACT_ALLOWED)):
        raise Invalid("not a fact")
    _FACT_SIGS.add(sig)


def _fact_in(row) -> Fact:
    """One fact (this runs once per fact in a warm build, so the common checks are done in bulk)."""
    if type(row) is not list:
        raise Invalid("not a fact")
    sig = tuple(map(type, row))
    if sig not in _FACT_SIGS:
        _check_signature(sig)
    values = dict(zip(_FACT_NAMES, row))
    for i, name in _FACT_TEXT:
        if row[i] is not None:
            values[name] = _text_in(row[i])
    for i, name, dec in _FACT_OTHER:
        values[name] = dec(row[i])
    fact = _new(Fact)
    fact.__dict__.update(values)
    return fact


def fact_file_from_plain(data) -> FactFile:
    """The FactFile that `fact_file_to_plain` turned into `data`; `Invalid` for anything else."""
    if type(data) is not list or len(data) != 2 or type(data[0]) is not list or type(data[1]) is not list:
        raise Invalid("not a fact file")
    head, rows = data
    if len(head) != len(_FILE):
        raise Invalid("not a fact file")
    values = {name: dec(v) for (name, dec), v in zip(_FILE, head)}
    return FactFile(facts=tuple(map(_fact_in, rows)), **values)
