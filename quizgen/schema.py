"""JSON Schemas for the files quizgen reads, rendered from spec.py for editors.

yaml-language-server (VS Code's YAML extension, and most editors' YAML support)
reads these to offer completion, hover text and red squiggles while a teacher
types.  Everything an author sees there (key names, descriptions, examples,
allowed words) comes from `spec.py`, the table the validator reads too.

The schemas check structure only: shapes, required and unknown keys, patterns.
What needs the whole project (unique ids, known sources, project languages,
images that exist) stays with `quizgen check`.  Editors read YAML 1.2, where
`answer: 2048` is a number and `answer: Yes` a string, while quizgen takes every
scalar as written text; so a text accepts strings, numbers and booleans alike.
Draft-07 is used because it is the draft editors support best.
"""

from __future__ import annotations

import json
import os

from . import spec
from .lint import RULES

DRAFT = "http://json-schema.org/draft-07/schema#"
KINDS = ("facts", "sources", "config", "quiz")
FILE_NAMES = {kind: f"{kind}.schema.json" for kind in KINDS}

# A YAML scalar as editors see it; a string must hold more than whitespace.
SCALAR = {"type": ["string", "number", "boolean"], "minLength": 1, "pattern": r"\S"}


def scalar(pattern: str = "") -> dict:
    if not pattern:
        return dict(SCALAR)
    return {"type": "string", "minLength": 1, "pattern": pattern}


def shape(key: spec.Key) -> dict:
    """The JSON Schema of one key's value, without its description."""
    s = key.shape
    if s == "string":
        return scalar(key.pattern)
    if s == "text":
        return {
            "anyOf": [
                scalar(key.pattern),
                {
                    "type": "object",
                    "description": "One text per language code, e.g. {ko: ..., en: ...}.",
                    "minProperties": 1,
                    "propertyNames": {"pattern": spec.LANG_PATTERN},
                    "additionalProperties": scalar(key.pattern),
                },
            ]
        }
    if s == "id":
        return {"type": ["string", "integer"], "pattern": spec.ID_PATTERN, "minimum": 0}
    if s == "boolean":
        return {"type": "boolean"}
    if s == "number":
        return {"type": "number", "exclusiveMinimum": 0}
    if s == "choice":
        return {"type": "string", "enum": list(key.values)}
    if s == "word":
        return word(key.values)
    if s == "whole":
        return {
            "anyOf": [
                {"type": "integer", "minimum": key.low, "maximum": key.high},
                {"type": "string", "pattern": r"^\s*[0-9]{1,9}\s*$"},  # quoted digits: the range is checked by quizgen
            ]
        }
    if s == "lang":
        return {"type": "string", "anyOf": [{"const": "both"}, {"pattern": spec.LANG_PATTERN}]}
    if s == "values":
        one = shape(spec.Key("", key.items, "", values=key.values))
        return {"anyOf": [one, {"type": "array", "minItems": 1, "items": one}]}
    if s == "selector":
        return {"anyOf": [{"type": "null"}, mapping(key.keys)]}
    if s == "sections":
        return {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/section"}}
    if s == "list":
        out = {"type": "array", "items": shape(spec.Key("", key.items, "", keys=key.keys, values=key.values))}
        if key.min_items:
            out["minItems"] = key.min_items
        if key.items == "word":  # a list of words (the header's boxes) names each once
            out["uniqueItems"] = True
        return out
    if s == "languages":
        return {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": spec.LANG_PATTERN},
        }
    if s == "rules":
        return {
            "type": "array",
            "items": {"type": "string", "enum": list(RULES), "enumDescriptions": list(RULES.values())},
        }
    if s == "mapping":
        return mapping(key.keys)
    if s == "facts":
        return {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/fact"}}
    raise ValueError(f"spec.py: unknown shape {s!r} for key {key.name!r}")


def word(values) -> dict:
    """One of `values`, in any case and with spaces around, as quizgen reads it; the enum drives completion."""
    spelled = "|".join("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in v) for v in values)
    return {"type": "string", "anyOf": [{"enum": list(values)}, {"pattern": rf"^\s*(?:{spelled})\s*$"}]}


def described(key: spec.Key) -> dict:
    out = {"description": key.description, **shape(key)}
    if key.example is not None:
        out["examples"] = [key.example]
    return out


def mapping(keys, description: str = "") -> dict:
    keys = list(keys.values()) if isinstance(keys, dict) else list(keys)
    out: dict = {"type": "object"}
    if description:
        out["description"] = description
    required = [k.name for k in keys if k.required]
    if required:
        out["required"] = required
    out["properties"] = {k.name: described(k) for k in keys}
    out["additionalProperties"] = False
    return out


def fact_schema() -> dict:
    """One fact: every key is known; `type` (default basic) decides which are required and allowed."""
    out = mapping(spec.FACT, "One fact; `type` (default basic) decides which keys it needs.")
    branches = []
    for name, (needed, description) in spec.FACT_TYPE_KEYS.items():
        condition: dict = {"properties": {"type": {"const": name}}}
        if name != "basic":  # a fact without `type` is basic
            condition["required"] = ["type"]
        allowed = spec.COMMON_FACT_KEYS + needed + spec.FACT_TYPE_OPTIONAL.get(name, ())
        then: dict = {
            "description": f"A {name} fact: {description}",
            "required": list(needed),
            "propertyNames": {"enum": list(allowed)},
        }
        if name in spec.FACT_TYPE_ONE_OF:  # e.g. a choice fact has `wrong` or `options`, never both
            then["oneOf"] = [{"required": [k]} for k in spec.FACT_TYPE_ONE_OF[name]]
        if name == "truefalse":
            then["properties"] = {"answer": described(spec.TRUEFALSE_ANSWER)}
        branches.append({"if": condition, "then": then})
    # a fact cites with source/quote or with a cite list, never both
    branches.append({"not": {"anyOf": [{"required": ["cite", "source"]}, {"required": ["cite", "quote"]}]}})
    out["allOf"] = branches
    return out


def schema(kind: str) -> dict:
    """The JSON Schema of one kind of file: facts, sources, config or quiz."""
    if kind == "facts":
        out = {"$schema": DRAFT, "title": "quizgen fact file"}
        out.update(mapping(spec.FACT_FILE, spec.FACT_FILE_DESCRIPTION))
        out["definitions"] = {"fact": fact_schema()}
        return out
    if kind == "sources":
        return {
            "$schema": DRAFT,
            "title": "quizgen sources",
            "description": spec.SOURCES_DESCRIPTION,
            "type": "object",
            "propertyNames": {"pattern": spec.ID_PATTERN},
            "additionalProperties": mapping(spec.SOURCE, "One source: at least a title."),
        }
    if kind == "config":
        out = {"$schema": DRAFT, "title": "quizgen.yaml"}
        out.update(mapping(spec.CONFIG, spec.CONFIG_DESCRIPTION))
        return out
    if kind == "quiz":
        out = {"$schema": DRAFT, "title": "quizgen quiz file"}
        out.update(mapping(spec.QUIZ, spec.QUIZ_DESCRIPTION))
        out["definitions"] = {
            "section": mapping(spec.QUIZ_SECTION, "One section: which facts it may ask, and their points.")
        }
        return out
    raise ValueError(f"unknown schema kind {kind!r} (kinds: {', '.join(KINDS)})")


def render(kind: str) -> str:
    """The schema as the file `quizgen init` writes and `quizgen schema` prints (stable bytes)."""
    return json.dumps(schema(kind), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------
# in a project

SCHEMA_DIR = "schemas"
MODELINE = "# yaml-language-server: $schema="


def kind_of(rel: str) -> str | None:
    """Which schema a project file (project-relative, '/'-separated) follows, if any."""
    from .project import CONFIG_FILE, DECKS_DIR, SOURCES_FILE
    from .quiz import QUIZ_DIR

    if rel == CONFIG_FILE:
        return "config"
    if rel == SOURCES_FILE:
        return "sources"
    if rel.startswith(DECKS_DIR + "/") and rel.endswith((".yaml", ".yml")):
        return "facts"
    if rel.startswith(QUIZ_DIR + "/") and rel.endswith((".yaml", ".yml")):
        return "quiz"
    return None


def add_modeline(path: str, rel: str) -> None:
    """Make the file's first line point yaml-language-server at its schema (relative to the file).

    A modeline wins over any glob in the editor's settings, so sources.yaml gets the sources
    schema even where a `decks/**` glob maps fact files."""
    kind = kind_of(rel)
    if kind is None:
        return
    with open(path, "rb") as fh:
        data = fh.read()
    if data.startswith(MODELINE.encode()):
        return
    up = "../" * rel.count("/")
    with open(path, "wb") as fh:
        fh.write(f"{MODELINE}{up}{SCHEMA_DIR}/{FILE_NAMES[kind]}\n".encode() + data)


def write_schemas(root: str) -> list[str]:
    """Write every schema into ROOT/schemas/; return the paths written, project-relative."""

    os.makedirs(os.path.join(root, SCHEMA_DIR), exist_ok=True)
    written = []
    for kind in KINDS:
        rel = f"{SCHEMA_DIR}/{FILE_NAMES[kind]}"
        with open(os.path.join(root, rel), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(render(kind))
        written.append(rel)
    return written
