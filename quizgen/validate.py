"""Stage 2: check a node tree against the quiz format and build the model from it.

Validation *is* construction here: one walk over the nodes of a file both
collects every problem (with its line) and builds the frozen dataclasses, so a
valid file is walked once and its node tree can be dropped right after.  Checks
that need the whole project (unique ids, known sources) live in `project.py`.
"""

from __future__ import annotations

import difflib
import os
import re
import sys

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import cloze, ids, spec
from .errors import Problem
from .ids import new_project_id
from .limits import (
    MAX_CLOZE_NUMBER,
    MAX_FACTS_PER_FILE,
    MAX_FILE_NAME_BYTES,
    MAX_NAME_CHARS,
    MAX_OPTIONS,
    MAX_TEXT_CHARS,
)
from .loader import inside
from .model import NEUTRAL, ROLES, TYPES, Citation, Fact, FactFile, Source, Text, pack_lines


def whole(pattern: str) -> re.Pattern:
    """A spec.py (JSON Schema) pattern for Python: there `$` is the very end, here it also matches
    before a final newline, which let `id: "a\n"` through and wrote a broken quizgen.lock."""
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


# The key lists, patterns and hints come from spec.py, which the JSON Schemas are rendered from too.
ID_RE = whole(spec.ID_PATTERN)
LANG_RE = whole(spec.LANG_PATTERN)
URL_RE = whole(spec.URL_PATTERN)
ANKI_GUID_RE = whole(spec.ANKI_GUID_PATTERN)

COMMON_KEYS = spec.COMMON_FACT_KEYS
# Keys allowed per type: those it requires, then those only it may have (a choice fact's `options`, `shuffle`).
TYPE_KEYS = {name: keys + spec.FACT_TYPE_OPTIONAL.get(name, ()) for name, (keys, _) in spec.FACT_TYPE_KEYS.items()}
REQUIRED_KEYS = {name: keys for name, (keys, _) in spec.FACT_TYPE_KEYS.items()}
ALL_FACT_KEYS = sorted(spec.FACT)
FILE_KEYS = tuple(spec.FACT_FILE)
SOURCE_KEYS = tuple(spec.SOURCE)
CONFIG_KEYS = tuple(spec.CONFIG)
LINT_KEYS = tuple(k.name for k in spec.LINT.keys)
PROJECT_ID_RE = whole(spec.PROJECT_ID_PATTERN)
CITE_KEYS = tuple(spec.CITE)
POINTS_RE = whole(spec.POINTS_PATTERN)


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "text"


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


class AnyId(frozenset):
    """Stands for "every id" when decks/sources.yaml could not be read in full: unknown-source
    checks are skipped then, rather than reporting every source after the syntax error."""

    def __contains__(self, item) -> bool:
        return True


SUGGESTION_BUDGET = 20_000  # did-you-mean comparisons per file: 600 unknown ids x 600 sources took 6.5 s


class Suggester:
    """did-you-mean against a large set (source ids), bounded: each distinct word is compared once,
    only with candidates of a similar length, and a file gets at most SUGGESTION_BUDGET comparisons
    in all; past it, messages simply carry no suggestion."""

    def __init__(self, choices):
        self.by_length: dict[int, list[str]] = {}
        for choice in choices:
            self.by_length.setdefault(len(choice), []).append(choice)
        self.budget = SUGGESTION_BUDGET
        self.memo: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        if word in self.memo:
            return self.memo[word]
        n = len(word)
        # difflib's ratio is at most 2*min/(len a + len b): below 0.6 for lengths outside [n/2.33, 2.33n]
        near = [c for k in range(max(1, int(n * 0.43)), int(n * 2.34) + 2) for c in self.by_length.get(k, ())]
        if len(near) > self.budget:
            self.memo[word] = ""
            return ""
        self.budget -= len(near)
        self.memo[word] = did_you_mean(word, sorted(near))
        return self.memo[word]


class Checker:
    """Collects problems for one file; small helpers keep each check to one line."""

    def __init__(self, rel: str, complete: bool = True):
        self.rel = rel
        self.problems: list[Problem] = []
        self.complete = complete  # False: a syntax error cut the file, so a missing key proves nothing
        self._suggest: Suggester | None = None

    def missing(self, node_or_line, message: str) -> None:
        if self.complete:
            self.error(node_or_line, message)

    def suggest_source(self, word: str, source_ids) -> str:
        if self._suggest is None:
            self._suggest = Suggester(source_ids)
        return self._suggest(word)

    def error(self, node_or_line, message: str) -> None:
        line = node_or_line if isinstance(node_or_line, int) else line_of(node_or_line)
        self.problems.append(Problem(self.rel, line, message))

    def keys_of(self, node: MappingNode):
        """(name, key node, value node) for each entry; reports duplicate and non-text keys."""
        seen: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.error(key, "mapping keys must be plain text")
                continue
            name = key.value
            if name in seen:
                self.error(key, f"duplicate key {name!r} (first at line {seen[name]})")
                continue
            seen[name] = key.start_mark.line + 1
            yield name, key, value

    def mapping(self, node: Node, allowed, what: str, hint: dict | None = None) -> dict[str, tuple[Node, Node]]:
        """Return key -> (key node, value node), reporting unknown keys with a suggestion."""
        out: dict[str, tuple[Node, Node]] = {}
        for name, key, value in self.keys_of(node):
            if name not in allowed:
                extra = (hint or {}).get(name) or did_you_mean(name, allowed)
                self.error(key, f"unknown key {name!r} in {what}{extra}")
                continue
            out[name] = (key, value)
        return out

    def scalar(self, node: Node, field: str, required_text: bool = True, name: bool = False) -> str | None:
        """A text value; `name` for one-line names (ids, tags, paths): no newline or tab, shorter."""
        if not isinstance(node, ScalarNode):
            self.error(node, f"{field}: expected text, found {kind(node)}")
            return None
        value = node.value
        if required_text and not value.strip():
            self.error(node, f"{field}: must not be empty")
            return None
        limit = MAX_NAME_CHARS if name else MAX_TEXT_CHARS
        if len(value) > limit:
            self.error(node, f"{field}: {len(value):,} characters; the limit is {limit:,}")
            return None
        if name and ("\n" in value.strip() or "\t" in value):
            self.error(node, f"{field}: must be one line without tabs (found {value!r})")
            return None
        return value

    def text(self, node: Node, field: str, languages: tuple[str, ...]) -> Text | None:
        """A plain string, or a mapping from project language to string."""
        if isinstance(node, ScalarNode):
            value = self.scalar(node, field)
            return None if value is None else Text(((NEUTRAL, value),))
        if isinstance(node, SequenceNode):
            self.error(node, f"{field}: expected text or a mapping of languages, found a list")
            return None
        items = []
        ok = True
        before = len(self.problems)
        for lang, key, value in self.keys_of(node):
            if lang not in languages:
                langs = ", ".join(languages)
                self.error(
                    key,
                    f"{field}: unknown language {lang!r} (project languages: {langs})" + did_you_mean(lang, languages),
                )
                ok = False
                continue
            text = self.scalar(value, f"{field}.{lang}")
            if text is None:
                ok = False
            else:
                items.append((lang, text))
        ok = ok and len(self.problems) == before
        if ok and not items:
            self.error(node, f"{field}: must not be empty")
        return Text(tuple(items)) if ok and items else None

    def string_list(self, node: Node, field: str) -> tuple[str, ...] | None:
        if not isinstance(node, SequenceNode):
            self.error(node, f"{field}: expected a list, found {kind(node)}")
            return None
        out = []
        for i, item in enumerate(node.value):
            value = self.scalar(item, f"{field}[{i}]")
            if value is not None:
                out.append(value.strip())
        return tuple(out)


def parse_config(node: Node | None, rel: str, complete: bool = True) -> tuple[dict, list[Problem]]:
    """quizgen.yaml: languages (list of codes, first is primary), title, lint.ignore."""
    c = Checker(rel, complete)
    config = {
        "id": "",
        "languages": ("ko", "en"),
        "title": "",
        "lint_ignore": (),
        "anki_lang": "both",
        "anki_package": "per-deck",
    }
    if node is None:
        return config, []
    if not isinstance(node, MappingNode):
        c.error(node, f"quizgen.yaml must be a mapping, found {kind(node)}")
        return config, c.problems
    keys = c.mapping(node, CONFIG_KEYS, "quizgen.yaml")
    if "languages" in keys:
        langs = c.string_list(keys["languages"][1], "languages")
        if langs is not None:
            bad = [x for x in langs if not LANG_RE.match(x)]
            if not langs:
                c.error(keys["languages"][1], "languages: must list at least one language code")
            elif bad:
                c.error(keys["languages"][1], f"languages: {bad[0]!r} is not a language code like 'ko' or 'en'")
            elif len(set(langs)) != len(langs):
                c.error(keys["languages"][1], "languages: a language is listed twice")
            else:
                config["languages"] = langs
    if "id" in keys:
        value = c.scalar(keys["id"][1], "id")
        if value is not None and not PROJECT_ID_RE.match(value):
            c.error(
                keys["id"][1],
                f"id: {value!r} must be 8 to 64 letters, digits, '-' or '_' (a random value such as "
                f"{new_project_id()!r}, written once and never changed)",
            )
        elif value is not None:
            config["id"] = value
    if "title" in keys:
        config["title"] = c.scalar(keys["title"][1], "title") or ""
    if "lint" in keys:
        config["lint_ignore"] = parse_lint(c, keys["lint"][1]) or ()
    if "anki" in keys:
        parse_anki(c, keys["anki"][1], config)
    return config, c.problems


def parse_anki(c: Checker, node: Node, config: dict) -> None:
    """`anki: {lang, package}`: defaults for the Anki packages (--lang and --apkg override them)."""
    if not isinstance(node, MappingNode):
        c.error(node, f"anki: expected a mapping like {{lang: ko, package: one}}, found {kind(node)}")
        return
    keys = c.mapping(node, tuple(spec.ANKI), "anki")
    if "lang" in keys:
        lang = c.scalar(keys["lang"][1], "anki.lang")
        if lang is not None and lang != "both" and lang not in config["languages"]:
            c.error(
                keys["lang"][1],
                f"anki.lang: {lang!r} is not a project language (use one of: {', '.join(config['languages'])}, both)",
            )
        elif lang is not None:
            config["anki_lang"] = lang
    if "package" in keys:
        mode = c.scalar(keys["package"][1], "anki.package")
        if mode is not None and mode not in spec.APKG_MODES:
            c.error(keys["package"][1], f"anki.package: must be one of {', '.join(spec.APKG_MODES)} (found {mode!r})")
        elif mode is not None:
            config["anki_package"] = mode


def parse_lint(c: Checker, node: Node) -> tuple[str, ...] | None:
    if not isinstance(node, MappingNode):
        c.error(node, f"lint: expected a mapping like {{ignore: [rule]}}, found {kind(node)}")
        return None
    keys = c.mapping(node, LINT_KEYS, "lint")
    if "ignore" not in keys:
        return ()
    return c.string_list(keys["ignore"][1], "lint.ignore")


def parse_sources(node: Node | None, rel: str, complete: bool = True) -> tuple[dict[str, Source], list[Problem]]:
    c = Checker(rel, complete)
    sources: dict[str, Source] = {}
    if node is None:
        return sources, []
    if not isinstance(node, MappingNode):
        c.error(node, f"sources.yaml must map source ids to sources, found {kind(node)}")
        return sources, c.problems
    for sid, key, value in c.keys_of(node):
        if not ID_RE.match(sid) or len(sid) > MAX_NAME_CHARS:
            c.error(key, f"source id {sid!r} must use lowercase letters, digits, '-' and '_' (at most 200)")
            continue
        if not isinstance(value, MappingNode):
            c.error(value, f"source {sid!r}: expected a mapping with at least a title, found {kind(value)}")
            continue
        keys = c.mapping(value, SOURCE_KEYS, f"source {sid!r}")
        if "title" not in keys:
            c.error(value, f"source {sid!r}: missing required key 'title'")
            continue
        fields = {}
        for name, (_, vnode) in keys.items():
            text = c.scalar(vnode, f"{sid}.{name}", name=name != "title")
            if text is None:
                continue
            if name == "url" and not URL_RE.match(text.strip()):
                c.error(vnode, f"{sid}.url: must start with http:// or https:// (found {text.strip()!r})")
                continue
            fields[name] = text.strip()
        if "title" in fields:
            sources[sid] = Source(id=sid, line=line_of(key), **fields)
    return sources, c.problems


def parse_deck(c: Checker, node: Node) -> str | None:
    deck = c.scalar(node, "deck", name=True)
    if deck is None:
        return None
    deck = deck.strip()
    parts = deck.split("::")
    if any(not p.strip() for p in parts):
        c.error(node, f"deck: {deck!r} has an empty part between '::'")
        return None
    deck = "::".join(p.strip() for p in parts)
    package = ids.slug(parts[0].strip())
    if len(package.encode("utf-8")) > MAX_FILE_NAME_BYTES:
        c.error(
            node,
            f"deck: the top-level name {parts[0].strip()[:40]!r}... gives a package file name of "
            f"{len(package.encode('utf-8'))} bytes; the limit is {MAX_FILE_NAME_BYTES} (shorten it)",
        )
        return None
    return deck


def parse_fact_file(
    node: Node, rel: str, root: str, languages: tuple[str, ...], source_ids, complete: bool = True
) -> tuple[FactFile | None, list[Problem]]:
    """Validate one fact file and build it; the caller checks unique ids across files.

    With problems, the FactFile returned (if any) is *partial*: only its valid facts, plus the
    ids of the invalid ones in `rejected_ids`, so that `check` can still run the project-wide
    checks (duplicate ids, quotes, lint) over everything that is sound.  `build` never uses it.
    `complete=False` says a syntax error cut the file (see loader.Loaded)."""
    c = Checker(rel, complete)
    if not isinstance(node, MappingNode):
        c.error(node, f"a fact file must be a mapping with 'deck' and 'facts', found {kind(node)}")
        return None, c.problems
    keys = c.mapping(node, FILE_KEYS, "the fact file")
    deck = None
    if "deck" not in keys:
        c.missing(1, f"missing required key 'deck' ({spec.hint(spec.FACT_FILE['deck'])})")
    else:
        deck = parse_deck(c, keys["deck"][1])
    file_tags: tuple[str, ...] = ()
    if "tags" in keys:
        file_tags = c.string_list(keys["tags"][1], "tags") or ()
    description = c.text(keys["description"][1], "description", languages) if "description" in keys else None
    facts: list[Fact] = []
    rejected: list[tuple[str, int]] = []
    if "facts" not in keys:
        c.missing(1, f"missing required key 'facts' ({spec.hint(spec.FACT_FILE['facts'])})")
    else:
        fnode = keys["facts"][1]
        if not isinstance(fnode, SequenceNode):
            c.error(fnode, f"facts: expected a list of facts, found {kind(fnode)}")
        else:
            if not fnode.value:
                c.missing(fnode, "facts: the list is empty")
            if len(fnode.value) > MAX_FACTS_PER_FILE:
                c.error(
                    fnode,
                    f"facts: {len(fnode.value):,} facts in one file; the limit is {MAX_FACTS_PER_FILE:,} "
                    "(split the file)",
                )
            for item in fnode.value:
                fact = parse_fact(c, item, deck or "", file_tags, root, languages, source_ids, rejected)
                if fact is not None:
                    facts.append(fact)
    deck_line = line_of(keys["deck"][1]) if "deck" in keys else 0
    if not c.problems and deck is not None:
        whole_file = FactFile(rel, deck, file_tags, tuple(facts), deck_line=deck_line, description=description)
        return whole_file, []
    partial = FactFile(
        rel,
        deck or "",
        file_tags,
        tuple(facts),
        rejected_ids=tuple(rejected),
        deck_line=deck_line,
        description=description,
    )
    return partial, c.problems


TYPE_HINTS = {
    "wrong": " ('wrong' belongs to choice facts; add 'type: choice')",
    "options": " ('options' belongs to choice facts; add 'type: choice')",
    "shuffle": " ('shuffle' belongs to choice facts: it says whether their options are shuffled)",
    "reverse": " ('reverse' belongs to basic facts: it adds the answer -> question card)",
    "text": " ('text' belongs to cloze facts; add 'type: cloze')",
    "statement": " ('statement' belongs to truefalse facts; add 'type: truefalse')",
}


def parse_fact(
    c: Checker, node: Node, deck: str, file_tags, root: str, languages, source_ids, rejected=None
) -> Fact | None:
    """One fact, or None when it has problems (then its id, if valid, goes to `rejected`)."""
    if not isinstance(node, MappingNode):
        c.error(node, f"a fact must be a mapping with at least 'id', found {kind(node)}")
        return None
    start = len(c.problems)
    raw = {key.value: (key, value) for key, value in node.value if isinstance(key, ScalarNode)}
    ftype = "basic"
    if "type" in raw:
        t = c.scalar(raw["type"][1], "type", name=True)
        if t is not None and t.strip() not in TYPES:
            c.error(
                raw["type"][1],
                f"type: unknown fact type {t!r} (use one of: {', '.join(TYPES)})" + did_you_mean(t.strip(), TYPES),
            )
            t = None
        if t is None:
            reject_id(c, raw, rejected)
            return None
        ftype = t.strip()
    allowed = COMMON_KEYS + TYPE_KEYS[ftype]
    hints = {k: v for k, v in TYPE_HINTS.items() if k not in allowed}
    if ftype != "basic" and "question" not in allowed:
        hints["question"] = f" ({ftype} facts use {TYPE_KEYS[ftype][0]!r} instead of 'question')"
    keys = c.mapping(node, allowed, "a fact", hints)
    fields: dict = {"type": ftype, "deck": deck, "path": c.rel, "line": line_of(node)}
    fields["lines"] = pack_lines({name: line_of(knode) for name, (knode, _) in keys.items()})

    if "id" not in keys:
        c.error(node, "missing required key 'id'")
    else:
        fid = c.scalar(keys["id"][1], "id", name=True)
        if fid is not None and not ID_RE.match(fid):
            c.error(
                keys["id"][1],
                f"id: {fid!r} must use lowercase letters, digits, '-' and '_' and start with a letter or digit",
            )
        elif fid is not None:
            fields["id"] = fid
    for name in REQUIRED_KEYS[ftype]:
        if name not in keys:
            c.error(node, f"missing required key {name!r} for a {ftype} fact")
    if ftype == "choice" and "wrong" not in keys and "options" not in keys:
        c.error(node, "a choice fact needs 'wrong' (the wrong options) or 'options' (every option in print order)")
    if ftype == "choice" and "wrong" in keys and "options" in keys:
        c.error(
            keys["options"][0],
            "options: a choice fact lists either 'wrong' or 'options' (every option, the answer among them), not both",
        )
    # text fields
    for name in ("question", "text", "statement", "explanation") + (("answer",) if ftype != "truefalse" else ()):
        if name in keys:
            fields[name] = c.text(keys[name][1], name, languages)
    if ftype == "truefalse" and "answer" in keys:
        vnode = keys["answer"][1]
        value = vnode.value.strip().lower() if isinstance(vnode, ScalarNode) else None
        if isinstance(vnode, ScalarNode) and vnode.style in (None, "") and value in ("true", "false"):
            fields["truth"] = value == "true"
        else:
            shown = vnode.value if isinstance(vnode, ScalarNode) else kind(vnode)
            c.error(vnode, f"answer: a truefalse answer must be true or false (found {shown!r})")
    if ftype == "choice" and "wrong" in keys and "options" not in keys:
        fields["wrong"] = parse_wrong(c, keys["wrong"][1], fields.get("answer"), languages)
    if ftype == "choice" and "options" in keys and "wrong" not in keys:
        parsed = parse_options(c, keys["options"][1], fields.get("answer"), languages)
        if parsed is not None:
            fields["options"], fields["answer"], fields["wrong"] = parsed
    if "shuffle" in keys:
        fields["shuffle"] = parse_bool(c, keys["shuffle"][1], "shuffle")
    if "reverse" in keys:
        fields["reverse"] = parse_bool(c, keys["reverse"][1], "reverse")
    if "points" in keys:
        fields["points"] = parse_points(c, keys["points"][1], "points")
    if ftype == "cloze" and fields.get("text") is not None:
        check_cloze(c, keys["text"][1], fields["text"])
    if "cite" in keys:
        both = [name for name in ("source", "quote") if name in keys]
        if both:
            c.error(
                keys[both[0]][0],
                f"{both[0]}: a fact cites either with source/quote or with a cite list, not both "
                f"(move it into cite at line {line_of(keys['cite'][0])})",
            )
        else:
            citations = parse_cite(c, keys["cite"][1], source_ids)
            if citations:
                fields["cite"] = citations
                primary = next(x for x in citations if x.role == "evidence")
                fields["source"], fields["quote"] = primary.source, primary.quote
    for name in ("source", "quote"):
        if name in keys and "cite" not in keys:
            value = c.scalar(keys[name][1], name, name=name == "source")
            if value is not None:
                fields[name] = value.strip()
    if "source" in fields:
        fields["source"] = sys.intern(fields["source"])
    if "source" in fields and fields["source"] not in source_ids:  # cite's sources were checked in parse_cite
        known = c.suggest_source(fields["source"], source_ids)
        c.error(keys["source"][1], f"source: unknown source id {fields['source']!r} (not in decks/sources.yaml){known}")
    tags = list(file_tags)
    if "tags" in keys:
        tags += c.string_list(keys["tags"][1], "tags") or ()
    fields["tags"] = tuple(dict.fromkeys(sys.intern(t) for t in tags if t))
    if "image" in keys:
        fields["image"] = check_image(c, keys["image"][1], root)
    if "anki_guid" in keys:
        guid = c.scalar(keys["anki_guid"][1], "anki_guid")
        if guid is not None and not ANKI_GUID_RE.match(guid):
            c.error(keys["anki_guid"][1], "anki_guid: must be printable ASCII without spaces (an Anki note's GUID)")
        elif guid is not None:
            fields["anki_guid"] = guid
    if "lint" in keys:
        fields["lint_ignore"] = parse_lint(c, keys["lint"][1]) or ()
    if len(c.problems) > start or "id" not in fields:
        if "id" in fields and rejected is not None:
            rejected.append((fields["id"], fields["line"]))
        return None
    return Fact(**{k: v for k, v in fields.items() if v is not None})


def reject_id(c: Checker, raw: dict, rejected) -> None:
    """A fact too broken to check (unknown type) still has its id take part in the duplicate check."""
    if rejected is None or "id" not in raw:
        return
    node = raw["id"][1]
    if isinstance(node, ScalarNode) and ID_RE.match(node.value):
        rejected.append((node.value, line_of(raw["id"][0])))


def parse_cite(c: Checker, node: Node, source_ids) -> tuple[Citation, ...] | None:
    """`cite:` as a list of {source, quote?, role?}; at least one citation must be evidence."""
    if not isinstance(node, SequenceNode):
        c.error(
            node,
            f"cite: expected a list of citations like [{{source: ID, quote: '...', role: claim}}], found {kind(node)}",
        )
        return None
    if not node.value:
        c.error(node, "cite: the list is empty; cite at least one evidence source")
        return None
    before = len(c.problems)
    out: list[Citation] = []
    first: dict[tuple, int] = {}
    for i, item in enumerate(node.value):
        where = f"cite[{i}]"
        if not isinstance(item, MappingNode):
            c.error(
                item,
                f"{where}: expected a mapping like {{source: ID, quote: '...', role: evidence}}, found {kind(item)}",
            )
            continue
        keys = c.mapping(item, CITE_KEYS, f"a citation ({where})")
        if "source" not in keys:
            c.error(item, f"{where}: missing required key 'source' (an id from decks/sources.yaml)")
            continue
        sid = c.scalar(keys["source"][1], f"{where}.source", name=True)
        quote = c.scalar(keys["quote"][1], f"{where}.quote") if "quote" in keys else ""
        role = "evidence"
        if "role" in keys:
            role = (c.scalar(keys["role"][1], f"{where}.role") or "").strip()
            if role and role not in ROLES:
                c.error(
                    keys["role"][1],
                    f"{where}.role: unknown role {role!r} (use claim or evidence)" + did_you_mean(role, ROLES),
                )
        if sid is None or quote is None or role not in ROLES:
            continue
        sid = sys.intern(sid.strip())
        if sid not in source_ids:
            known = c.suggest_source(sid, source_ids)
            c.error(keys["source"][1], f"{where}.source: unknown source id {sid!r} (not in decks/sources.yaml){known}")
            continue
        line = line_of(keys["quote"][0]) if "quote" in keys else line_of(item)
        citation = Citation(sid, quote.strip(), role, line)
        same = (citation.source, citation.quote, citation.role)
        if same in first:  # a dict, not a pairwise scan: a hostile list of 10,000 must stay linear
            c.error(item, f"{where}: repeats cite[{first[same]}]")
        else:
            first[same] = i
        out.append(citation)
    if len(c.problems) > before:
        return None
    if not any(x.role == "evidence" for x in out):
        c.error(node, "cite: needs at least one evidence citation (role: evidence, the default) that backs the answer")
        return None
    return tuple(out)


def parse_wrong(c: Checker, node: Node, answer: Text | None, languages) -> tuple[Text, ...] | None:
    if not isinstance(node, SequenceNode):
        c.error(node, f"wrong: expected a list of wrong options, found {kind(node)}")
        return None
    if len(node.value) < 2:
        c.error(node, f"wrong: a choice fact needs at least 2 wrong options (found {len(node.value)})")
    if len(node.value) + 1 > MAX_OPTIONS:
        c.error(
            node,
            f"wrong: {len(node.value)} wrong options give {len(node.value) + 1} options; the limit is {MAX_OPTIONS}, "
            f"one per label A to {chr(ord('A') + MAX_OPTIONS - 1)}",
        )
    out = []
    first: dict[Text, int] = {}  # one dict lookup per option: 10,000 options once took 7 s pairwise
    for i, item in enumerate(node.value):
        text = c.text(item, f"wrong[{i}]", languages)
        if text is None:
            continue
        if answer is not None and any(
            (v.strip() == answer.get(lang).strip()) for lang, v in text.items if answer.get(lang) is not None
        ):
            c.error(item, f"wrong[{i}]: equals the answer; a wrong option must be wrong")
        if text in first:
            c.error(item, f"wrong[{i}]: repeats wrong[{first[text]}]")
        else:
            first[text] = i
        out.append(text)
    return tuple(out)


def same_text(a: Text, b: Text) -> bool:
    """Two texts say the same (ignoring surrounding spaces) in every language both have."""
    shared = [(lang, v) for lang, v in a.items if b.get(lang) is not None]
    return bool(shared) and all(v.strip() == b.get(lang).strip() for lang, v in shared)  # type: ignore[union-attr]


def parse_options(c: Checker, node: Node, answer: Text | None, languages):
    """`options:` (every option in print order, the answer among them) -> (options, answer, wrong).

    The answer is the option equal to `answer:`, and exactly one must be, so that an order like
    ㄱ / ㄴ / ㄱ, ㄴ / ㄱ, ㄷ (합답형) or "both A and B" can be printed as written."""
    if not isinstance(node, SequenceNode):
        c.error(node, f"options: expected a list of every option (the answer among them), found {kind(node)}")
        return None
    if len(node.value) < 3:
        c.error(
            node, f"options: a choice fact needs at least 3 options, the answer among them (found {len(node.value)})"
        )
    out: list[Text] = []
    ok = True
    if len(node.value) > MAX_OPTIONS:
        c.error(node, f"options: {len(node.value)} options; the limit is {MAX_OPTIONS}, one per label A to Z")
        ok = False
    for i, item in enumerate(node.value):
        text = c.text(item, f"options[{i}]", languages)
        if text is None:
            ok = False
            continue
        for j, prev in enumerate(out if len(node.value) <= MAX_OPTIONS else ()):  # pairwise only when bounded
            if same_text(prev, text):
                c.error(item, f"options[{i}]: repeats options[{j}]")
                ok = False
                break
        out.append(text)
    if not ok or answer is None or len(out) < 3:
        return None
    hits = [i for i, text in enumerate(out) if same_text(text, answer)]
    if not hits:
        c.error(node, "options: the answer is not among the options (write it exactly as one of them)")
        return None
    index = hits[0]
    return tuple(out), out[index], tuple(t for i, t in enumerate(out) if i != index)


def parse_bool(c: Checker, node: Node, field: str) -> bool | None:
    value = node.value.strip().lower() if isinstance(node, ScalarNode) else None
    if isinstance(node, ScalarNode) and node.style in (None, "") and value in ("true", "false"):
        return value == "true"
    shown = node.value if isinstance(node, ScalarNode) else kind(node)
    c.error(node, f"{field}: must be true or false (found {shown!r})")
    return None


def parse_points(c: Checker, node: Node, field: str) -> int | float | None:
    """A positive number of points, like 2 or 1.5 (at most 4 decimals): what a question is worth."""
    value = node.value.strip() if isinstance(node, ScalarNode) else None
    if value is not None and POINTS_RE.match(value) and float(value) > 0:
        number = float(value)
        return int(number) if number.is_integer() else number
    shown = node.value if isinstance(node, ScalarNode) else kind(node)
    c.error(node, f"{field}: must be a positive number like 2 or 1.5 (found {shown!r})")
    return None


def check_cloze(c: Checker, node: Node, text: Text) -> None:
    """Deletions Anki accepts: c1 to c500, none empty or nested, the same numbers in every language."""
    numbers = {}
    for lang, value in text.items:
        found = cloze.scan(value)
        where = value_node(node, lang)
        name = f"text.{lang}" if lang else "text"
        if not found:
            c.error(where, f"{name}: a cloze needs at least one deletion like {{{{c1::hidden text}}}}")
            continue
        if any(not d.hidden.strip() for d in found):
            c.error(where, f"{name}: a cloze deletion is empty")
        bad = next((d for d in found if not 1 <= d.number <= MAX_CLOZE_NUMBER), None)
        if bad is not None:
            shown = value[bad.start : bad.start + min(bad.end - bad.start, 24)]
            c.error(
                where,
                f"{name}: {shown!r}: cloze numbers run from c1 to c{MAX_CLOZE_NUMBER} (Anki's limit)",
            )
        if any(d.nested for d in found):
            c.error(where, f"{name}: a cloze deletion inside another is not supported; close the first with '}}}}'")
        numbers[lang] = {d.number for d in found}
    distinct = {frozenset(v) for v in numbers.values() if v}
    if len(distinct) > 1:
        c.error(node, "text: every language must use the same cloze numbers (c1, c2, ...)")


def value_node(node: Node, lang: str) -> Node:
    """The node of one language's text inside a language mapping (for its line)."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == lang:
                return value
    return node


def check_image(c: Checker, node: Node, root: str) -> str | None:
    value = c.scalar(node, "image", name=True)
    if value is None:
        return None
    rel = value.strip().replace("\\", "/")
    if os.path.isabs(rel) or rel.startswith("/") or re.match(r"^[A-Za-z]:", rel):
        c.error(node, f"image: {value!r} must be a path relative to the project")
        return None
    full = os.path.join(root, rel)
    if not inside(root, full):
        c.error(node, f"image: {value!r} is outside the project")
        return None
    if not os.path.isfile(full):
        c.error(node, f"image: {value!r} does not exist")
        return None
    return os.path.relpath(os.path.realpath(full), os.path.realpath(root)).replace(os.sep, "/")
