"""Spreadsheets in: CSV, TSV and XLSX, one fact per row under a header row.

Columns (any order, case-insensitive): id, type, question, answer, wrong, text,
statement, explanation, source, quote, tags, image; `front`/`back` and
`term`/`definition` are accepted for question/answer.  A text column may be per
language (`question.ko`, `question.en`).  `wrong` may repeat (`wrong`, `wrong`,
or `wrong1`, `wrong2`) and a cell may hold several options separated by `|`
(`\\|` for a literal bar).  Without a `type` column the type follows from the
columns that are filled: wrong -> choice, text -> cloze, statement -> truefalse.

Text files are read as UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's
"Unicode text"), or CP949/EUC-KR (what Korean Excel writes by default); the
delimiter (comma, semicolon or tab) is the one that makes the header row read
best.  Every bad row is reported as `file:row: message`, all in one run.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import os
import re
import zipfile

from ..errors import Problem
from ..validate import LANG_RE, did_you_mean
from .draft import MAX_FIELD_CHARS, Draft, clean
from .plan import IMAGE_SUFFIXES, Batch, safe_name
from .yamltext import Plain

SUFFIXES = (".csv", ".tsv", ".tab", ".xlsx", ".xlsm")
MAX_BYTES = 64 * 1024 * 1024  # a text table larger than this is not a question bank
MAX_ROWS = 200_000
MAX_XLSX_UNPACKED = 512 * 1024 * 1024  # zip bomb guard: total uncompressed size of the workbook's parts
MAX_XLSX_PARTS = 10_000

FIELDS = (
    "id", "type", "question", "answer", "wrong", "text", "statement", "explanation", "source", "quote", "tags", "image",
)  # fmt: skip
TEXT_FIELDS = ("question", "answer", "wrong", "text", "statement", "explanation")
ALIASES = {"front": "question", "back": "answer", "term": "question", "definition": "answer", "extra": "explanation"}
TRUE_WORDS = {"true", "t", "yes", "y", "o", "○", "1", "참", "맞음", "예", "네"}
FALSE_WORDS = {"false", "f", "no", "n", "x", "×", "0", "거짓", "틀림", "아니오", "아니요"}
_NAME = re.compile(r"^([a-z]+?)[_-]?(\d+)?$")


def column_name(cell: str) -> tuple[str, int | None, str | None] | None:
    """'Question.ko' -> ('question', None, 'ko'); 'wrong 2' -> ('wrong', 2, None); unknown -> None."""
    base, _, lang = cell.strip().partition(".")
    m = _NAME.match(re.sub(r"\s+", "", base.lower()))
    if not m:
        return None
    field = ALIASES.get(m.group(1), m.group(1))
    if field not in FIELDS:
        return None
    return field, (int(m.group(2)) if m.group(2) else None), (lang.strip() or None)


class Column:
    def __init__(self, field: str, number: int | None, lang: str | None):
        self.field, self.number, self.lang = field, number, lang


def parse_header(cells: list[str], where: Problem, languages) -> tuple[list[Column | None], list[Problem]]:
    columns: list[Column | None] = []
    problems = []
    seen: dict[tuple, str] = {}
    for raw in cells:
        name = raw.strip()
        if not name:
            columns.append(None)  # an unnamed column must stay empty (checked per row)
            continue
        parsed = column_name(name)
        if parsed is None:
            problems.append(
                Problem(where.path, where.line, f"unknown column {name!r}{did_you_mean(name.lower(), FIELDS)}")
            )
            columns.append(None)
            continue
        field, number, lang = parsed
        if lang and field not in TEXT_FIELDS:
            problems.append(Problem(where.path, where.line, f"column {name!r}: only text columns can be per language"))
            columns.append(None)
            continue
        if lang and (not LANG_RE.match(lang) or (languages and lang not in languages)):
            langs = f" (project languages: {', '.join(languages)})" if languages else ""
            problems.append(
                Problem(where.path, where.line, f"column {name!r}: {lang!r} is not a project language{langs}")
            )
            columns.append(None)
            continue
        if number is not None and field != "wrong":
            problems.append(Problem(where.path, where.line, f"column {name!r}: only 'wrong' columns can be numbered"))
            columns.append(None)
            continue
        key = (field, number, lang)
        if field != "wrong" and key in seen:
            problems.append(Problem(where.path, where.line, f"column {name!r} appears twice"))
        if field != "wrong" and any(k[0] == field and (k[2] is None) != (lang is None) for k in seen):
            problems.append(
                Problem(
                    where.path, where.line, f"column {name!r}: use either {field!r} or {field}.<lang> columns, not both"
                )
            )
        seen[key] = name
        columns.append(Column(field, number, lang))
    if not any(c is not None and c.field in ("question", "text", "statement") for c in columns) and not problems:
        problems.append(Problem(where.path, where.line, "the header row needs a question, text or statement column"))
    return columns, problems


def split_options(cell: str) -> list[str]:
    """'a | b | c' -> ['a', 'b', 'c']; '\\|' is a literal bar."""
    parts = re.split(r"(?<!\\)\|", cell)
    return [p.replace("\\|", "|").strip() for p in parts if p.strip()]


def truth(cell: str) -> Plain | None:
    word = cell.strip().lower()
    return Plain("true") if word in TRUE_WORDS else Plain("false") if word in FALSE_WORDS else None


def row_draft(
    columns, cells, where: Problem, deck: str, lang: str | None, base_dir: str
) -> tuple[Draft | None, list[Problem]]:
    """One row -> one draft; every problem in the row is reported, not only the first."""
    problems = []

    def bad(message: str) -> None:
        problems.append(Problem(where.path, where.line, message))

    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        bad(f"the row has {len(cells)} cells but the header names {len(columns)} columns")
    texts: dict[str, dict] = {}
    wrong_plain: list[str] = []
    wrong_lang: dict[tuple, dict[str, list[str]]] = {}  # (group) -> lang -> options
    lang_seen: dict[str, int] = {}
    other: dict[str, str] = {}
    for column, raw in zip(columns, cells):
        cell = clean(raw)
        if column is None:
            if cell:
                bad("a cell under a column without a name; name the column or empty the cell")
            continue
        if len(cell) > MAX_FIELD_CHARS:
            bad(f"{column.field}: {len(cell):,} characters is more than the limit of {MAX_FIELD_CHARS:,}")
            continue
        if not cell:
            continue
        if column.field == "wrong":
            if column.lang is None:
                wrong_plain.extend(split_options(cell))
            else:
                occurrence = lang_seen[column.lang] = lang_seen.get(column.lang, 0) + 1
                group = ("n", column.number) if column.number is not None else ("o", occurrence)
                wrong_lang.setdefault(group, {}).setdefault(column.lang, []).extend(split_options(cell))
        elif column.field in TEXT_FIELDS:
            texts.setdefault(column.field, {})[column.lang or ""] = cell
        else:
            other[column.field] = cell
    fields: dict = {}
    if "id" in other:
        fields["id"] = other["id"]

    def text_value(parts: dict):
        if "" in parts:
            return {lang: parts[""]} if lang else parts[""]
        return parts

    wrong: list = [({lang: w} if lang else w) for w in wrong_plain]
    for group in sorted(wrong_lang, key=str):
        by_lang = wrong_lang[group]
        counts = {k: len(v) for k, v in by_lang.items()}
        if len(set(counts.values())) > 1:
            shown = ", ".join(f"wrong.{k} has {n}" for k, n in counts.items())
            bad(f"per-language wrong options do not pair up ({shown})")
            continue
        for i in range(next(iter(counts.values()))):
            wrong.append({k: v[i] for k, v in by_lang.items()})
    ftype = other.get("type", "").strip().lower()
    if not ftype:
        ftype = "choice" if wrong else "cloze" if "text" in texts else "truefalse" if "statement" in texts else "basic"
    if ftype != "basic":
        fields["type"] = ftype
    for name in ("question", "text", "statement", "answer", "explanation"):
        if name in texts:
            fields[name] = text_value(texts[name])
    if ftype == "truefalse" and "answer" in texts:
        values = list(texts["answer"].values())
        word = truth(values[0]) if len(set(values)) == 1 else None
        if word is None:
            bad(f"answer: a truefalse answer must be true or false (found {values[0]!r})")
        else:
            fields["answer"] = word
    if wrong:
        fields["wrong"] = wrong
    for name in ("source", "quote"):
        if name in other:
            fields[name] = other[name]
    if "tags" in other:
        fields["tags"] = [t for t in re.split(r"[\s,;]+", other["tags"]) if t]
    draft = Draft(deck=deck, fields=fields, origin=Problem(where.path, where.line, ""))
    if "image" in other:
        image = local_image(other["image"], base_dir)
        if isinstance(image, str):
            bad(image)
        else:
            draft.media["image"] = image
    return (None if problems else draft), problems


def local_image(value: str, base_dir: str):
    """(safe name, path) of an image next to the spreadsheet, or a message saying why not."""
    rel = value.strip().replace("\\", "/")
    if os.path.isabs(rel) or re.match(r"^[A-Za-z]:", rel) or ".." in rel.split("/"):
        return f"image: {value!r} must be a path relative to the spreadsheet's folder"
    full = os.path.join(base_dir, rel)
    real_base = os.path.realpath(base_dir)
    if not os.path.realpath(full).startswith(real_base + os.sep) or not os.path.isfile(full):
        return f"image: {value!r} is not a file in the spreadsheet's folder"
    name = safe_name(os.path.basename(rel))
    if name is None:
        return f"image: {value!r} is not an image file ({', '.join(IMAGE_SUFFIXES)})"
    return (name, full)


# ---------------------------------------------------------------------------
# reading the cells


def decode(data: bytes, display: str) -> tuple[str | None, str, list[Problem]]:
    """(text, encoding used, problems): UTF-8 (BOM optional), UTF-16 with a BOM, or CP949/EUC-KR."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16", []
        except UnicodeDecodeError:
            return None, "", [Problem(display, 0, "starts like UTF-16 text but is not valid UTF-16")]
    try:
        return data.decode("utf-8-sig"), "UTF-8", []
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        return data.decode("cp949"), "CP949", []
    except UnicodeDecodeError:
        line = data.count(b"\n", 0, first_bad) + 1
        return None, "", [Problem(display, line, "is neither UTF-8 nor CP949/EUC-KR text; save it as UTF-8 CSV")]


def read_bytes(path: str, display: str, limit: int = MAX_BYTES) -> tuple[bytes | None, list[Problem]]:
    try:
        if os.path.getsize(path) > limit:
            return None, [Problem(display, 0, f"is larger than {limit // (1024 * 1024)} MiB; refusing to read it")]
        with open(path, "rb") as fh:
            return fh.read(), []
    except OSError as exc:
        return None, [Problem(display, 0, f"cannot read file: {exc.strerror}")]


def pick_delimiter(text: str, suffix: str) -> str:
    """The delimiter that makes the first line read as the most known column names."""
    if suffix in (".tsv", ".tab"):
        return "\t"
    first = text.split("\n", 1)[0]
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t"):
        cells = next(csv.reader([first], delimiter=delimiter), [])
        score = sum(1 for c in cells if column_name(c) is not None)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def text_rows(text: str, delimiter: str, display: str):
    """(line where the row starts, cells) for every record; a broken record is a located problem."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, Problem(display, start, f"cannot read this row: {exc}")
            start = reader.line_num + 1
            continue
        yield start, cells
        start = reader.line_num + 1


def cell_text(value) -> str:
    """An XLSX cell as the text a teacher sees: 2 not 2.0, dates as YYYY-MM-DD, TRUE as true."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def xlsx_sheets(path: str, display: str):
    """[(sheet name, [(row number, cells)])] or problems; the zip is checked before openpyxl opens it."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        return None, [Problem(display, 0, f"is not a valid .xlsx workbook ({exc})")]
    if len(infos) > MAX_XLSX_PARTS or sum(i.file_size for i in infos) > MAX_XLSX_UNPACKED:
        return None, [Problem(display, 0, "unpacks to more than 512 MiB or 10,000 parts; refusing to open it")]
    import openpyxl  # a core dependency; imported here so that the CLI starts fast

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files; all mean "unreadable"
        return None, [Problem(display, 0, f"cannot read the workbook: {type(exc).__name__}: {exc}")]
    sheets = []
    try:
        for sheet in workbook.worksheets:
            rows = []
            for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1):
                if number > MAX_ROWS + 1:
                    return None, [Problem(display, number, f"more than {MAX_ROWS:,} rows; split the workbook")]
                rows.append((number, [cell_text(v) for v in values]))
            sheets.append((sheet.title, rows))
    finally:
        workbook.close()
    return sheets, []


def read(path: str, display: str, *, deck: str | None, lang: str | None, languages) -> Batch:
    """Read one spreadsheet into drafts; `languages` are the project's (None for a new project)."""
    batch = Batch()
    suffix = os.path.splitext(path)[1].lower()
    base_deck = deck or os.path.splitext(os.path.basename(path))[0]
    if suffix in (".xlsx", ".xlsm"):
        sheets, problems = xlsx_sheets(path, display)
        if problems:
            batch.problems += problems
            return batch
        sheets = [(name, rows) for name, rows in sheets if any(any(c.strip() for c in cells) for _, cells in rows)]
        named = len(sheets) > 1
        tables = [
            (f"{display}[{name}]" if named else display, f"{base_deck}::{name}" if named else base_deck, rows)
            for name, rows in sheets
        ]
    else:
        data, problems = read_bytes(path, display)
        text, encoding, more = decode(data, display) if data is not None else (None, "", [])
        if problems or more:
            batch.problems += problems + more
            return batch
        if encoding not in ("UTF-8",):
            batch.notes.append(f"{display}: read as {encoding} text")
        tables = [(display, base_deck, list(text_rows(text, pick_delimiter(text, suffix), display)))]
    found_langs: list[str] = []
    for where_path, deck_name, rows in tables:
        header = None
        for line, cells in rows:
            if isinstance(cells, Problem):
                batch.problems.append(cells)
                continue
            if len(batch.drafts) + len(batch.problems) > MAX_ROWS:
                batch.problems.append(Problem(where_path, line, f"more than {MAX_ROWS:,} rows; split the file"))
                return batch
            if not any(c.strip() for c in cells):
                continue
            where = Problem(where_path, line, "")
            if header is None:
                header, problems = parse_header(cells, where, languages)
                batch.problems += problems
                if problems:
                    break  # rows cannot be read against a broken header
                found_langs += [c.lang for c in header if c is not None and c.lang]
                continue
            draft, problems = row_draft(header, cells, where, deck_name, lang, os.path.dirname(os.path.abspath(path)))
            batch.problems += problems
            if draft is not None:
                batch.drafts.append(draft)
    if found_langs:
        batch.languages = tuple(dict.fromkeys(found_langs))
    elif lang:
        batch.languages = (lang,)
    return batch
