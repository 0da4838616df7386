"""`quizgen import`: spreadsheets, Quizlet text and Anki packages in, fact files that `check` accepts out."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import run, snapshot, write_project

from quizgen.importers import yamltext
from quizgen.loader import load_yaml
from quizgen.project import load_project
from quizgen.validate import parse_fact_file

TRICKY = [
    "a: b", "key:value", "[not a list", "{not: a map}", "*alias", "&anchor", "!tag", "%directive", "@at", "`tick",
    "#not a comment", "text # with hash", "Yes", "no", "ON", "~", "null", "3.10", "2048", "0x1F", "1e3", "- item",
    "? key", "| block", "> folded", "'single'", 'double "quoted"', "back\\slash", "tab\there", "line one\nline two",
    "trailing newline\n", "  spaces around  ", "딥시크-V3는 6710억 개", "emoji \U0001f600",
    "line\u2028sep", "bom\ufeffinside", "---", "...", "<b>bold</b> & more",
]  # fmt: skip
# Not here: control characters (NEL, BEL, DEL): no quiz text may hold one (Anki splits fields on U+001F),
# so the loader refuses them at their line and column (tests/test_trust_input.py).


def test_yaml_text_round_trips_exactly(tmp_path):
    """Every string written by yamltext loads back, through quizgen's own loader and validator, unchanged."""
    facts = [
        {"id": f"f{i}", "question": {"ko": text, "en": text + "?"}, "answer": text, "tags": [text.strip() or "x"]}
        for i, text in enumerate(TRICKY)
    ]
    facts.append({"id": "tf", "type": "truefalse", "statement": "Yes", "answer": yamltext.Plain("false")})
    facts.append(
        {"id": "mc", "type": "choice", "question": "q", "answer": "No", "wrong": ["Yes", {"ko": "예", "en": "[x"}]}
    )
    text, starts = yamltext.fact_file("Deck: [one]::#two", facts, "header: with *stars*\nand a second line")
    path = tmp_path / "decks" / "t.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    node, problems = load_yaml(str(path), "decks/t.yaml")
    assert problems == []
    parsed, problems = parse_fact_file(node, "decks/t.yaml", str(tmp_path), ("ko", "en"), frozenset())
    assert problems == []
    assert parsed.deck == "Deck: [one]::#two"
    for fact, text in zip(parsed.facts, TRICKY):
        assert fact.question.items == (("ko", text), ("en", text + "?"))
        assert fact.answer.items == (("", text),)
        assert fact.tags == ((text.strip() or "x"),)
    assert [f.line for f in parsed.facts] == starts
    assert parsed.facts[-2].truth is False
    assert [w.items for w in parsed.facts[-1].wrong] == [(("", "Yes"),), (("ko", "예"), ("en", "[x"))]


def imported(root: Path):
    project = load_project(str(root))  # what `quizgen check` runs: it must pass
    return {f.id: f for f in project.facts}, project


def texts(fact, name):
    value = getattr(fact, name)
    return dict(value.items) if value is not None else None


CSV = """\
id,question,answer,wrong,wrong,explanation,tags
,DeepSeek-V3는 토큰마다 몇 개의 파라미터를 쓰나?,370억 개,6710억 개,700억 개,전체 중 일부만 씁니다.,moe numbers
capital,"Capital of Korea: ""Seoul""?",Yes,No,Maybe,,
,"Two
lines",3.10,,,,
"""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949"])
def test_csv_in_every_korean_excel_encoding(tmp_path, encoding):
    source = tmp_path / "vocab.csv"
    source.write_bytes(CSV.encode(encoding))
    result = run("import", source, "--into", tmp_path / "course")
    assert result.exit_code == 0, result.output
    assert "3 facts cite 'import-vocab'" in result.output and "check: ok" in result.output
    facts, project = imported(tmp_path / "course")
    assert list(facts) == ["deepseek-v3neun-tokeunmada-myeot-gaeui", "capital", "two-lines"]
    moe = facts["deepseek-v3neun-tokeunmada-myeot-gaeui"]
    assert moe.type == "choice" and texts(moe, "answer") == {"": "370억 개"}
    assert [w.items for w in moe.wrong] == [(("", "6710억 개"),), (("", "700억 개"),)]
    assert texts(moe, "explanation") == {"": "전체 중 일부만 씁니다."} and moe.tags == ("moe", "numbers")
    assert texts(facts["capital"], "question") == {"": 'Capital of Korea: "Seoul"?'}
    assert texts(facts["capital"], "answer") == {"": "Yes"}
    assert texts(facts["two-lines"], "question") == {"": "Two\nlines"} and texts(facts["two-lines"], "answer") == {
        "": "3.10"
    }
    assert project.files[0].deck == "vocab" and project.files[0].path == "decks/vocab.yaml"
    assert project.sources["import-vocab"].title.startswith("vocab.csv")
    if encoding == "cp949":
        assert "read as CP949" in result.output


def test_tsv_with_languages_and_pipes(tmp_path):
    source = tmp_path / "unit.tsv"
    source.write_text(
        "Question.ko\tquestion.en\tanswer.ko\tanswer.en\twrong.ko\twrong.en\tsource\n"
        "수도는?\tCapital?\t서울\tSeoul\t부산 | 대구\tBusan | Daegu\tsrc\n"
        "파이프?\tPipe?\ta | b\ta | b\tc \\| d|e\tC \\| D|E\tsrc\n",
        encoding="utf-8",
    )
    root = write_project(
        tmp_path / "course",
        {"decks/old.yaml": "deck: Old\nfacts:\n  - id: capital\n    question: q\n    answer: a\n    source: src\n"},
    )
    result = run("import", source, "--into", root, "--deck", "Geo::Unit 1", "--file", "decks/geo/unit1.yaml")
    assert result.exit_code == 0, result.output
    facts, project = imported(root)
    capital = facts["capital-2"]  # 'capital' is taken by the project's own fact
    assert texts(capital, "question") == {"ko": "수도는?", "en": "Capital?"} and capital.type == "choice"
    assert [w.items for w in capital.wrong] == [(("ko", "부산"), ("en", "Busan")), (("ko", "대구"), ("en", "Daegu"))]
    assert texts(facts["pipe"], "answer") == {"ko": "a | b", "en": "a | b"}  # only 'wrong' splits at '|'
    assert [w.items for w in facts["pipe"].wrong] == [(("ko", "c | d"), ("en", "C | D")), (("ko", "e"), ("en", "E"))]
    assert capital.deck == "Geo::Unit 1" and capital.path == "decks/geo/unit1.yaml" and capital.source == "src"
    assert "need" not in result.output and "cite" not in result.output  # every fact had its source


def test_semicolon_csv_types_from_columns_and_quizlet_words(tmp_path):
    source = tmp_path / "mixed.csv"
    source.write_text(
        "type;question;answer;text;statement\n"
        ";Q?;A;;\n"
        ";;;{{c1::서울}}은 수도다;\n"
        ";;참;;하늘은 파랗다\n"
        "truefalse;;X;;Grass is red\n",
        encoding="utf-8",
    )
    result = run("import", source, "--into", tmp_path / "c", "--lang", "ko")
    assert result.exit_code == 0, result.output
    facts, project = imported(tmp_path / "c")
    assert project.languages == ("ko",)
    assert [f.type for f in facts.values()] == ["basic", "cloze", "truefalse", "truefalse"]
    assert [f.truth for f in facts.values()][2:] == [True, False]
    assert texts(facts["q"], "question") == {"ko": "Q?"}
    assert list(facts)[1] == "seoul-eun-sudoda" or list(facts)[1].startswith("seoul")


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_xlsx_sheets_become_subdecks(tmp_path):
    source = tmp_path / "bank.xlsx"
    source.write_bytes(
        xlsx_bytes(
            {
                "Unit 1": [
                    ["question", "answer", "wrong1", "wrong2"],
                    ["How many?", 2048, 1024, 4096],
                    [None, None, None, None],
                    ["Year?", "2025", 2024.0, "2023"],
                ],
                "Unit 2": [["statement", "answer"], ["딥시크는 중국 회사다", True]],
                "Empty": [],
            }
        )
    )
    result = run("import", source, "--into", tmp_path / "c")
    assert result.exit_code == 0, result.output
    facts, project = imported(tmp_path / "c")
    assert sorted(f.deck for f in project.files) == ["bank::Unit 1", "bank::Unit 2"]
    assert texts(facts["how-many"], "answer") == {"": "2048"}
    assert [w.items for w in facts["how-many"].wrong] == [(("", "1024"),), (("", "4096"),)]
    assert [w.items[0][1] for w in facts["year"].wrong] == ["2024", "2023"]
    assert facts["dipsikeuneun-jungguk-hoesada"].truth is True


BAD_CSV = """\
question,answer,wrong,type,id
Fine?,Yes,,,
No answer?,,,,
Choice?,A,only one,,
Odd type?,A,,essay,
Bad id?,A,,,Not An Id
Dup?,A,,,fine
Dup again?,A,,,fine
Too many,A,,,,extra
T or F?,maybe,,truefalse,
"""


def test_every_bad_row_reported_and_nothing_written(tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text(BAD_CSV, encoding="utf-8")
    root = write_project(
        tmp_path / "course",
        {"decks/a.yaml": "deck: A\nfacts:\n  - id: a\n    question: q\n    answer: a\n    source: src\n"},
    )
    before = snapshot(root)
    result = run("import", source, "--into", root)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == "8 problems found; nothing was written"
    expected = {
        "bad.csv:3: missing required key 'answer' for a basic fact",
        "bad.csv:4: wrong: a choice fact needs at least 2 wrong options (found 1)",
        "bad.csv:5: type: unknown fact type 'essay' (use one of: basic, choice, cloze, truefalse)",
        "bad.csv:6: id: 'Not An Id' must use lowercase letters, digits, '-' and '_'",
        "bad.csv:8: id: 'fine' is already used (earlier in this input)",
        "bad.csv:9: the row has 6 cells but the header names 5 columns",
        "bad.csv:10: answer: a truefalse answer must be true or false (found 'maybe')",
    }
    assert expected <= set(lines), result.stderr
    assert snapshot(root) == before
    # and a new project is not even created
    result = run("import", source, "--into", tmp_path / "new")
    assert result.exit_code == 1 and not (tmp_path / "new").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".quizgen-import")]


def test_header_problems_and_encodings(tmp_path):
    source = tmp_path / "h.csv"
    source.write_text("questoin,answer,id.ko,question.fr\nq,a,x,y\n", encoding="utf-8")
    result = run("import", source, "--into", write_project(tmp_path / "c", {}))
    assert result.exit_code == 1
    assert "h.csv:1: unknown column 'questoin'; did you mean 'question'?" in result.stderr
    assert "h.csv:1: column 'id.ko': only text columns can be per language" in result.stderr
    assert "h.csv:1: column 'question.fr': 'fr' is not a project language (project languages: ko, en)" in result.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes("question,answer\nq,\xff\xfe\xfd\n".encode("latin-1"))
    result = run("import", latin, "--into", tmp_path / "c")
    assert result.exit_code == 1 and "latin.csv:2: is neither UTF-8 nor CP949/EUC-KR text" in result.stderr


def test_quizlet_text_and_stable_ids(tmp_path):
    source = tmp_path / "Korean words.txt"
    source.write_text("사과\tapple\n\n사과\tan apple (again)\nmachine learning\t기계 학습\n", encoding="utf-8")
    sources = "textbook:\n  title: Textbook\n"
    root = write_project(tmp_path / "course", {}, sources)
    result = run("import", source, "--into", root, "--source", "textbook")
    assert result.exit_code == 0, result.output
    facts, _ = imported(root)
    assert list(facts) == ["sagwa", "sagwa-2", "machine-learning"]
    assert texts(facts["sagwa"], "answer") == {"": "apple"} and facts["sagwa"].source == "textbook"
    assert facts["sagwa"].path == "decks/korean-words.yaml" and facts["sagwa"].deck == "Korean words"
    first = (root / "decks/korean-words.yaml").read_bytes()
    result = run("import", source, "--into", root, "--source", "textbook")
    assert result.exit_code == 1 and "decks/korean-words.yaml: already exists; use --force" in result.stderr
    result = run("import", source, "--into", root, "--source", "textbook", "--force")
    assert result.exit_code == 0, result.output
    assert (root / "decks/korean-words.yaml").read_bytes() == first  # the same input gives the same ids and bytes
    bad = tmp_path / "bad.txt"
    bad.write_text("ok\tfine\nno tab here\n\tno term\n", encoding="utf-8")
    result = run("import", bad, "--into", root, "--source", "nope")
    assert result.exit_code == 1 and "--source 'nope': not in decks/sources.yaml (known: textbook)" in result.stderr
    result = run("import", bad, "--into", root)
    assert result.exit_code == 1
    assert "bad.txt:2: no TAB between term and definition" in result.stderr
    assert "bad.txt:3: the term is empty" in result.stderr


def test_image_column_copies_the_image_inside_the_project(tmp_path):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "cell diagram.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (tmp_path / "secret.png").write_bytes(b"outside")
    source = tmp_path / "pics" / "t.csv"
    source.write_text("question,answer,image\nCell?,Yes,cell diagram.png\nEscape?,No,../secret.png\n", encoding="utf-8")
    result = run("import", source, "--into", tmp_path / "c")
    assert result.exit_code == 1 and "t.csv:3: image: '../secret.png' must be a path relative" in result.stderr
    source.write_text("question,answer,image\nCell?,Yes,cell diagram.png\n", encoding="utf-8")
    result = run("import", source, "--into", tmp_path / "c")
    assert result.exit_code == 0, result.output
    facts, _ = imported(tmp_path / "c")
    assert facts["cell"].image == "images/cell-diagram.png"
    assert (tmp_path / "c" / "images" / "cell-diagram.png").read_bytes().endswith(b"fake")


def test_import_refuses_unknown_kinds_and_files_outside_decks(tmp_path):
    source = tmp_path / "x.csv"
    source.write_text("question,answer\nq,a\n", encoding="utf-8")
    result = run("import", source, "--into", tmp_path / "c", "--file", "../evil.yaml")
    assert result.exit_code == 1 and "must be a path inside the project's decks/ folder" in result.stderr
    other = tmp_path / "x.pdf"
    other.write_bytes(b"%PDF")
    result = run("import", other, "--into", tmp_path / "c")
    assert result.exit_code == 1 and "cannot tell what this file is" in result.stderr
    assert not (tmp_path / "c").exists()
