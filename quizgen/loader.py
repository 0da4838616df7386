"""Stage 1: read one YAML file into a node tree with line marks, treating it as untrusted.

Why nodes and not `yaml.load`: nodes keep the line of every key and value, so
every later message can say `file:line`; and no Python object is constructed
from a tag, so `!!python/object` and friends can never run.

What `load_yaml` guarantees to the validator, whatever the file holds:
- the tree is a plain *tree* of strings, lists and mappings: a file with an alias
  (`*name`, which shares a node, so a "billion laughs" document would expand
  exponentially on a walk) gives no tree at all;
- no text in it holds a control character other than tab and newline (Anki
  splits fields on U+001F, and a NUL breaks file paths): raw ones and ones
  written as escapes (`"\\x1f"`) are reported at their line and column and read
  as U+FFFD, so the rest of the file is still checked;
- every problem is located at a line of the file: anchors, explicit tags (even
  `!!str` and `!`), and syntax errors, the usual ones with a plain hint (and, when
  the parse fails, every line indented with a tab).

"Every problem at once": a syntax error stops the parser, but what it read before
the error is returned as a *partial* tree (the fact being read when it failed is
left out), so that the validator still reports the problems in the facts above.
Anchors, tags and tabs never hide anything: they are reported and the tree is
still returned.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Problem
from .limits import MAX_FILE_BYTES, MAX_PROBLEMS_PER_KIND

try:  # libyaml's C parser is ~10x faster; the pure-Python one is the fallback only
    from yaml import CSafeLoader as _BaseLoader

    LIBYAML = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

    LIBYAML = False

STR = "tag:yaml.org,2002:str"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"

# Characters YAML's reader refuses (its "printable" set inverted), plus the ones it reads as line
# breaks although editors do not (NEL, LS, PS), which would shift every later line number.
RAW_BAD = re.compile("[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# What no text may hold, however it was written: C0 controls but tab and newline, DEL, C1 controls.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# An escape in a double-quoted scalar that might produce one (checked exactly when this matches).
_ESCAPE_HINT = re.compile(r"\\[0abvfreN]|\\x[01789]|\\u00|\\U0000")
_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_SIMPLE_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "v": "\v", "f": "\f", "r": "\r", "e": "\x1b", "N": "\x85"}
# An anchor, alias or tag can only start a token: at a line start, after a blank or a flow indicator.
_MARKER_HINT = re.compile(r"(?:^|[\s\[\]{},:?-])[&*!]", re.M)
REPLACEMENT = "\ufffd"
_CONTENT_LINE = re.compile(r"^[ \t]*[^\s#]", re.M)


class _PlainLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A loader with no implicit resolvers: every plain scalar is a string.

    `answer: Yes` stays "Yes" and `answer: 3.10` stays "3.10" (YAML 1.1 would turn
    them into True and 3.1).
    """

    yaml_implicit_resolvers: dict = {}
    _DEFAULT_TAGS = {ScalarNode: STR, SequenceNode: SEQ, MappingNode: MAP}

    def resolve(self, kind, value, implicit):  # called by the C composer for every untagged node
        return self._DEFAULT_TAGS[kind]


@dataclass
class Loaded:
    """One parsed file: the tree (None when nothing could be read), its problems, and whether
    the tree is the whole file (False: a syntax error cut it, so missing keys prove nothing)."""

    node: Node | None
    problems: list[Problem] = field(default_factory=list)
    complete: bool = True

    def __iter__(self):
        """`node, problems = load_yaml(...)`: the all-or-nothing view (no tree when anything is wrong)
        for callers that need no partial tree."""
        return iter((None if self.problems else self.node, self.problems))


def read_text(path: str, rel: str, limit: int = MAX_FILE_BYTES) -> tuple[str | None, list[Problem]]:
    """Read a regular file of at most `limit` bytes as UTF-8 (BOM allowed); locate the first bad byte.

    Opening with O_NONBLOCK and checking the opened file means a FIFO or a device put where a
    fact file goes is refused instead of hanging the read or filling memory."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return None, [Problem(rel, 0, f"cannot read file: {exc.strerror}")]
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, [Problem(rel, 0, "is not a regular file; refusing to read it")]
        if info.st_size > limit:
            return None, [Problem(rel, 0, f"file is {info.st_size:,} bytes; the limit is {limit:,} (split it)")]
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        return None, [Problem(rel, 0, f"cannot read file: {exc.strerror}")]
    finally:
        os.close(fd)
    if len(data) > limit:
        return None, [Problem(rel, 0, f"file is over {limit:,} bytes, the limit (split it)")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, [Problem(rel, line, "file is not valid UTF-8 text (save it as UTF-8)")]
    if "\r" in text:  # CRLF and old-Mac CR line ends read as the same lines YAML's marks count
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, []


class _Lines:
    """Offset <-> (line, column) for one text, built only on the error paths that need it."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def locate(self, offset: int) -> tuple[int, int]:
        import bisect

        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1

    def offset(self, line0: int, column0: int) -> int:
        return self.starts[min(line0, len(self.starts) - 1)] + column0


def _char_name(ch: str) -> str:
    return f"U+{ord(ch):04X}" + (f" {unicodedata.name(ch)}" if unicodedata.name(ch, "") else "")


class _Capped:
    """Collects one kind of problem, summarising after MAX_PROBLEMS_PER_KIND (a binary file has thousands)."""

    def __init__(self, rel: str):
        self.rel, self.problems, self.extra = rel, [], 0

    def add(self, line: int, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS_PER_KIND:
            self.problems.append(Problem(self.rel, line, message))
        else:
            self.extra += 1

    def done(self, what: str) -> list[Problem]:
        if self.extra:
            last = self.problems[-1].line
            self.problems.append(Problem(self.rel, last, f"... and {self.extra} more {what} after this line"))
        return self.problems


def _raw_controls(text: str, rel: str) -> tuple[str, list[Problem]]:
    """Raw control characters, located; each is replaced by U+FFFD (same length) so parsing goes on."""
    lines = _Lines(text)
    out = _Capped(rel)
    for m in RAW_BAD.finditer(text):
        line, col = lines.locate(m.start())
        ch = m.group(0)
        if ch in "\u2028\u2029\x85":
            why = "YAML reads it as a line break; remove it or write it as an escape in double quotes"
        elif ch == "\x00":
            why = "remove it (is this a binary file?)"
        else:
            why = "remove it"
        out.add(line, f"column {col}: control character {_char_name(ch)} is not allowed in quiz files; {why}")
    return RAW_BAD.sub(REPLACEMENT, text), out.done("control characters")


def _escaped_controls(text: str, rel: str) -> tuple[str, list[Problem]]:
    """Control characters written as escapes in double-quoted text (`"\\x1f"`), located exactly.

    Each such escape is rewritten as `\\uFFFD` (lines do not move, so later marks stay right)."""
    lines = _Lines(text)
    out = _Capped(rel)
    edits: list[tuple[int, int]] = []
    try:
        for token in yaml.scan(text, Loader=_PlainLoader):
            if not isinstance(token, yaml.ScalarToken) or token.style != '"' or not CONTROL.search(token.value):
                continue
            start = lines.offset(token.start_mark.line, token.start_mark.column)
            end = lines.offset(token.end_mark.line, token.end_mark.column)
            for m in _ESCAPE.finditer(text, start, end):
                code = m.group(1) or m.group(2) or m.group(3)
                ch = chr(int(code, 16)) if code and int(code, 16) < 0x110000 else _SIMPLE_ESCAPES.get(m.group(4), "")
                if ch and CONTROL.match(ch):
                    line, col = lines.locate(m.start())
                    out.add(
                        line,
                        f"column {col}: the escape '{m.group(0)}' writes control character {_char_name(ch)}, "
                        "which quiz text cannot hold; remove it",
                    )
                    edits.append((m.start(), m.end()))
    except yaml.YAMLError:
        pass  # the syntax error is reported by the parse; escapes before it are found already
    for start, end in reversed(edits):
        text = text[:start] + "\\uFFFD" + text[end:]
    return text, out.done("control characters")


def _tab_problems(text: str, rel: str) -> list[Problem]:
    out = _Capped(rel)
    for number, line in enumerate(text.split("\n"), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip():
            out.add(number, f"column {indent.index(chr(9)) + 1}: tab character in indentation; indent with spaces")
    return out.done("lines indented with tabs")


def _marker_problems(text: str, rel: str) -> tuple[list[Problem], bool]:
    """Anchors, aliases and explicit tags (even `!!str` and `!`), each at its line and column.

    Returns the problems and whether an alias was seen (then no tree may be walked)."""
    out = _Capped(rel)
    alias = False
    try:
        for token in yaml.scan(text, Loader=_PlainLoader):
            line, col = token.start_mark.line + 1, token.start_mark.column + 1
            if isinstance(token, yaml.AliasToken):
                alias = True
                out.add(line, f"column {col}: YAML alias '*{token.value}' is not allowed; write the value out")
            elif isinstance(token, yaml.AnchorToken):
                out.add(line, f"column {col}: YAML anchor '&{token.value}' is not allowed; remove it")
            elif isinstance(token, yaml.TagToken):
                handle, suffix = token.value
                out.add(
                    line,
                    f"column {col}: YAML tag '{handle or ''}{suffix}' is not allowed (quiz files are data); "
                    "remove it, and put text that starts with '!' in quotes",
                )
    except yaml.YAMLError:
        pass  # reported by the parse
    return out.done("anchors, aliases and tags"), alias


# ---------------------------------------------------------------------------------------------
# syntax errors: the real line and a plain hint for the usual mistakes

_SPECIAL_START = "[]{}*&!%@`#|>'\""
_KEY_VALUE = re.compile(r"^(\s*(?:-\s+)?)([^\s:#'\"][^:#]*?):(\s+)(.*)$")
_NO_SPACE = re.compile(r"^\s*(?:-\s+)?[\w.-]+:[^\s:/]")


def _quoted(text: str) -> str:
    text = text.strip()
    if len(text) > 50:
        text = text[:50] + "…"
    return "'" + text.replace("'", "''") + "'" if '"' in text else '"' + text.replace("\\", "\\\\") + '"'


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _hint(problem: str, lines: list[str], line: int, context_line: int | None) -> tuple[int, str]:
    """(line, hint) for the common YAML mistakes; line is 1-based and inside the file."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if context_line and 0 < context_line <= len(lines) and _NO_SPACE.match(lines[context_line - 1]):
        # `answer:세종` reads as one plain word, so the parser complains only at the next key
        return context_line, "put a space after the colon ('answer: 세종', not 'answer:세종')"
    m = _KEY_VALUE.match(text)
    if m:
        key, value = m.group(2), m.group(4)
        if ": " in value or value.endswith(":"):
            return line, f"text containing ': ' must be in quotes: {key}: {_quoted(value)}"
        if value[:1] in "'\"":
            return line, f"a quoted text must end at its closing quote; quote all of it: {key}: {_quoted(value)}"
        if value[:1] in _SPECIAL_START:
            return line, f"text starting with {value[0]!r} must be in quotes: {key}: {_quoted(value)}"
    prev = next((ln for ln in reversed(lines[: line - 1]) if ln.strip() and not ln.lstrip().startswith("#")), None)
    if text.strip() and prev is not None and _indent(text) != _indent(prev):
        if "expected" in problem or "not allowed" in problem:
            return line, (
                f"this line is indented {_indent(text)} spaces and the line above {_indent(prev)}; "
                "keys of one mapping (and items of one list) line up exactly"
            )
    return line, ""


def _real_line(line: int, lines: list[str]) -> int:
    """A mark at the end of the file (past its last line, or on trailing blank lines) means the last
    line with text: that is where the author must look."""
    line = min(line, len(lines))
    while line > 1 and not lines[line - 1].strip():
        line -= 1
    return max(1, line)


def _syntax_problem(exc: yaml.YAMLError, text: str, rel: str) -> Problem:
    """One located problem for a syntax error: the real line (never past the end) and a hint."""
    lines = text.split("\n")
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Problem(rel, 1, f"YAML error: {' '.join(str(exc).split())}")
    mark = exc.problem_mark or exc.context_mark
    line = _real_line(mark.line + 1 if mark else 1, lines)
    context_line = _real_line(exc.context_mark.line + 1, lines) if exc.context_mark else None
    message = (exc.problem or exc.context or "invalid YAML").strip()
    context = (exc.context or "").strip()
    if "maximum nesting depth" in message:
        return Problem(rel, line, "YAML nesting depth over 1,000 levels (a fact file needs five)")
    if context_line and "quoted scalar" in context and "end of stream" in message:
        return Problem(rel, context_line, "YAML syntax error: the quoted text that starts here is never closed")
    if context_line and "flow" in context and (context_line != line or "expected ','" in message):
        # `tags: [a, b` with no `]`: the parser notices only at a later line
        closer = "]" if "sequence" in context else "}"
        opened = lines[context_line - 1].strip()
        return Problem(
            rel,
            context_line,
            f"YAML syntax error: {message}; the {closer!r} to close this line's {'[' if closer == ']' else '{'!r} "
            f"is missing (if {opened!r} is text, put it in quotes)",
        )
    if exc.context and exc.context_mark and exc.problem_mark and context_line != line:
        message = f"{message} ({exc.context.strip()} at line {context_line})"
    line, hint = _hint(message, lines, line, context_line)
    return Problem(rel, line, f"YAML syntax error: {message}" + (f"; {hint}" if hint else ""))


def _partial_tree(text: str) -> Node | None:
    """The nodes the parser produced before its error, as a tree.

    The root mapping and any list of mappings directly under it (the `facts:` list) keep
    their finished entries; everything still open at the error (the fact being read) is
    dropped, since its missing keys would only give false problems."""
    stack: list[tuple[type, object, list]] = []
    root: Node | None = None

    def finish(kind, start, children, end) -> Node:
        if kind is MappingNode:
            pairs = list(zip(children[0::2], children[1::2]))
            return MappingNode(MAP, pairs, start, end)
        return SequenceNode(SEQ, children, start, end)

    try:
        for event in yaml.parse(text, Loader=_PlainLoader):
            if isinstance(event, yaml.AliasEvent):
                return None
            node = None
            if isinstance(event, yaml.ScalarEvent):
                node = ScalarNode(STR, event.value, event.start_mark, event.end_mark, event.style)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                kind = MappingNode if isinstance(event, yaml.MappingStartEvent) else SequenceNode
                stack.append((kind, event.start_mark, []))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                kind, start, children = stack.pop()
                node = finish(kind, start, children, event.end_mark)
            if node is not None:
                if stack:
                    stack[-1][2].append(node)
                else:
                    root = node
    except yaml.YAMLError as exc:
        error_line = exc.problem_mark.line if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark else -1
    else:
        error_line = -1
    if root is not None or not stack or stack[0][0] is not MappingNode:
        return root
    kind, start, children = stack[0]
    if len(children) % 2:  # a key whose value was being read: keep it only for a list (`facts:`)
        items = stack[1][2] if len(stack) > 1 and stack[1][0] is SequenceNode else []
        if items and items[-1].end_mark.line >= error_line >= 0:
            items = items[:-1]  # it ended only at the broken line (a mis-indented key of it, say)
        children = children[:-1] + ([children[-1], SequenceNode(SEQ, items, stack[1][1], stack[1][1])] if items else [])
    return MappingNode(MAP, list(zip(children[0::2], children[1::2])), start, start)


def load_yaml(path: str, rel: str) -> Loaded:
    """Parse one file into a checked node tree plus every problem found; see the module docstring.

    `rel` is the path shown in messages (relative to the project root)."""
    text, problems = read_text(path, rel)
    if text is None:
        return Loaded(None, problems)
    return parse_yaml(text, rel)


def parse_yaml(text: str, rel: str) -> Loaded:
    problems: list[Problem] = []
    if RAW_BAD.search(text):
        text, found = _raw_controls(text, rel)
        problems += found
    if "\\" in text and _ESCAPE_HINT.search(text):
        text, found = _escaped_controls(text, rel)
        problems += found
    if not _CONTENT_LINE.search(text):  # only blank lines and comments
        return Loaded(None, problems + [Problem(rel, 1, "file is empty")])
    alias = False
    if ("&" in text or "*" in text or "!" in text) and _MARKER_HINT.search(text):
        found, alias = _marker_problems(text, rel)
        problems += found
    loader = _PlainLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        # Tabs are reported only when the parse fails (a tab after the indentation of a block
        # scalar is text); then every tab-indented line is named, since any of them may be the cause.
        tabs = _tab_problems(text, rel) if "\t" in text else []
        syntax = _syntax_problem(exc, text, rel)
        if syntax.line not in {p.line for p in tabs}:  # a tab's own message already says what is wrong there
            tabs.append(syntax)
        return Loaded(None if alias else _partial_tree(text), problems + tabs, complete=False)
    except RecursionError:  # only the pure-Python parser recurses; libyaml stops at 1,000 levels
        return Loaded(None, problems + [Problem(rel, 1, "YAML nesting is too deep")])
    finally:
        loader.dispose()
    if root is None:
        return Loaded(None, problems + [Problem(rel, 1, "file is empty")])
    return Loaded(None if alias else root, problems)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def inside(root: str, candidate: str) -> bool:
    """True when `candidate` (after resolving symlinks) stays inside `root`."""
    root_real = os.path.realpath(root)
    real = os.path.realpath(candidate)
    return real == root_real or real.startswith(root_real + os.sep)
