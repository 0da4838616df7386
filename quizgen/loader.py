"""Stage 1: read one YAML file into a node tree with line marks, treating it as untrusted.

Why nodes and not `yaml.load`: nodes keep the line of every key and value, so
every later message can say `file:line`; and no Python object is constructed
from a tag, so `!!python/object` and friends can never run.  The walk in
`_check_tree` runs before anything else looks at the tree and guarantees that
what it returns is a plain *tree*: only strings, lists and mappings, no
explicit tags, no duplicate keys, and no aliases (an alias shares a node, so a
"billion laughs" document would otherwise expand exponentially on the walk).
"""

from __future__ import annotations

import os
import stat
import unicodedata

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Problem

try:  # libyaml's C parser is ~10x faster; the pure-Python one is the fallback only
    from yaml import CSafeLoader as _BaseLoader

    LIBYAML = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

    LIBYAML = False

STR = "tag:yaml.org,2002:str"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"


class _PlainLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A loader with no implicit resolvers: every plain scalar is a string.

    `answer: Yes` stays "Yes" and `answer: 3.10` stays "3.10" (YAML 1.1 would turn
    them into True and 3.1).  Because nothing is resolved implicitly, any node
    whose tag is not str/seq/map carries an explicit tag, which we reject.
    """

    yaml_implicit_resolvers: dict = {}
    _DEFAULT_TAGS = {ScalarNode: STR, SequenceNode: SEQ, MappingNode: MAP}

    def resolve(self, kind, value, implicit):  # called by the C composer for every untagged node
        return self._DEFAULT_TAGS[kind]


def read_text(path: str, rel: str) -> tuple[str | None, list[Problem]]:
    """Read a file as UTF-8 (BOM allowed); report the line of the first bad byte."""
    try:
        # O_NONBLOCK and the S_ISREG check: a FIFO or a device named like a fact file must not hang the build.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None, [Problem(rel, 0, "is not a regular file; refusing to read it")]
            data = fh.read()
    except OSError as exc:
        return None, [Problem(rel, 0, f"cannot read file: {exc.strerror}")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, [Problem(rel, line, "file is not valid UTF-8 text (save it as UTF-8)")]
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return None, [Problem(rel, line, "file contains a NUL character; is it a binary file?")]
    return text, []


def _tab_problems(text: str, rel: str) -> list[Problem]:
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip():
            problems.append(Problem(rel, number, "tab character in indentation; indent with spaces"))
    return problems


def _yaml_problem(exc: yaml.YAMLError, rel: str) -> Problem:
    """Turn a PyYAML error into one located problem, keeping both marks when it has two."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        message = (exc.problem or exc.context or "invalid YAML").strip()
        if exc.context and exc.context_mark and exc.problem_mark:
            ctx_line = exc.context_mark.line + 1
            message = f"{message} ({exc.context.strip()} at {rel}:{ctx_line})"
        elif exc.context and exc.problem:
            message = f"{exc.context.strip()}: {message}"
        return Problem(rel, line, f"YAML syntax error: {message}")
    return Problem(rel, 0, f"YAML error: {exc}")


def _alias_line(text: str) -> int:
    """Find the first alias (`*name`) for the message; only called on the error path."""
    try:
        for event in yaml.parse(text, Loader=_PlainLoader):
            if isinstance(event, yaml.AliasEvent):
                return event.start_mark.line + 1
    except yaml.YAMLError:
        pass
    return 0


def _check_tree(root: Node, text: str, rel: str) -> list[Problem]:
    """Iteratively check the whole tree for aliases and tags; see the module docstring for why.

    Duplicate and non-text keys are reported by the validator, which visits every mapping anyway.
    """
    problems: list[Problem] = []
    seen: set[int] = set()
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            line = _alias_line(text)
            return problems + [
                Problem(rel, line, "YAML anchors and aliases (&name, *name) are not allowed; write the value out")
            ]
        seen.add(id(node))
        line = node.start_mark.line + 1
        if node.tag not in (STR, SEQ, MAP):
            problems.append(Problem(rel, line, f"YAML tags such as {node.tag!r} are not allowed"))
            continue
        if isinstance(node, SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
    return problems


def load_yaml(path: str, rel: str) -> tuple[Node | None, list[Problem]]:
    """Parse one file into a checked node tree, or return the problems that prevent it.

    `rel` is the path shown in messages (relative to the project root).
    """
    text, problems = read_text(path, rel)
    if text is None:
        return None, problems
    problems = _tab_problems(text, rel) if "\t" in text else []
    if problems:
        return None, problems
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        return None, [Problem(rel, 1, "file is empty")]
    loader = _PlainLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc, rel)]
    except RecursionError:
        return None, [Problem(rel, 0, "YAML nesting is too deep")]
    finally:
        loader.dispose()
    if root is None:
        return None, [Problem(rel, 1, "file is empty")]
    # Aliases need '*', anchors '&' and tags '!': a document without them needs no walk.
    if "*" in text or "&" in text or "!" in text:
        problems = _check_tree(root, text, rel)
        if problems:
            return None, problems
    return root, []


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def inside(root: str, candidate: str) -> bool:
    """True when `candidate` (after resolving symlinks) stays inside `root`."""
    root_real = os.path.realpath(root)
    real = os.path.realpath(candidate)
    return real == root_real or real.startswith(root_real + os.sep)
