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


# ---------------------------------------------------------------------------
# Anki packages, made with the real Anki backend


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5e1d2f10000000049454e44ae426082"
)  # fmt: skip


@pytest.fixture
def anki():
    return pytest.importorskip("anki.collection", reason="the official 'anki' package is in the test extras")


def teacher_collection(anki, folder: Path):
    """A teacher's collection as Anki makes it: stock notetypes, HTML, an image, tags, subdecks, a custom notetype."""
    folder.mkdir(parents=True, exist_ok=True)
    col = anki.Collection(str(folder / "collection.anki2"))
    image = folder / "cell diagram.png"
    image.write_bytes(PNG)
    image_name = col.media.add_file(str(image))
    (folder / "other.png").write_bytes(PNG + b"2")
    other_name = col.media.add_file(str(folder / "other.png"))
    cells, genetics = col.decks.id("Biology::Cells"), col.decks.id("Biology::Genetics")

    def add(notetype, values, deck, tags=()):
        note = col.new_note(col.models.by_name(notetype))
        for name, value in values.items():
            note[name] = value
        note.tags = list(tags)
        col.add_note(note, deck)
        return note

    add(
        "Basic",
        {
            "Front": "<b>Mitochondria</b> are the cell's...<br>(one word)",
            "Back": "power&nbsp;house<div>of the cell</div>",
        },
        cells,
        ["cells", "exam::2025"],
    )
    add("Basic (and reversed card)", {"Front": "DNA", "Back": "deoxyribonucleic acid"}, genetics, ["genetics"])
    add("Basic (type in the answer)", {"Front": "Gene unit of heredity? Type: <i>yes</i>", "Back": "yes"}, genetics)
    add(
        "Cloze",
        {"Text": "{{c1::Ribosomes}} make {{c2::proteins::what?}}", "Back Extra": "in the <u>cytoplasm</u>"},
        cells,
    )
    add(
        "Basic",
        {
            "Front": f'Which organelle? <img src="{image_name}">',
            "Back": f'nucleus [sound:nucleus.mp3]<img src="{other_name}">',
        },
        cells,
    )
    vocab = col.models.new("Vocab")
    for name in ("Word", "Meaning", "Example"):
        col.models.add_field(vocab, col.models.new_field(name))
    template = col.models.new_template("Card 1")
    template["qfmt"], template["afmt"] = "{{Word}}", "{{Meaning}}<br>{{Example}}"
    col.models.add_template(vocab, template)
    col.models.add(vocab)
    add("Vocab", {"Word": "세포", "Meaning": "cell", "Example": "세포 분열"}, col.decks.id("Korean"))
    return col


def export(anki, col, path: Path, legacy: bool = False) -> Path:
    from anki.collection import ExportAnkiPackageOptions

    options = ExportAnkiPackageOptions(with_scheduling=True, with_deck_configs=False, with_media=True, legacy=legacy)
    col.export_anki_package(out_path=str(path), options=options, limit=None)
    return path


def by_prompt(facts: dict):
    return {texts(f, "question" if f.question else "text")[""]: f for f in facts.values()}


def test_apkg_stock_notetypes_html_media_tags_and_subdecks(anki, tmp_path):
    col = teacher_collection(anki, tmp_path / "teacher")
    package = export(anki, col, tmp_path / "biology.apkg")
    col.close()
    result = run("import", package, "--into", tmp_path / "course")
    assert result.exit_code == 0, result.output
    facts, project = imported(tmp_path / "course")
    assert sorted(f.path for f in project.files) == [
        "decks/biology-cells.yaml",
        "decks/biology-genetics.yaml",
        "decks/korean.yaml",
    ]
    found = by_prompt(facts)
    mito = found["Mitochondria are the cell's...\n(one word)"]
    assert texts(mito, "answer") == {"": "power house\nof the cell"} and mito.deck == "Biology::Cells"
    assert mito.tags == ("cells", "exam::2025") and mito.anki_guid  # the note's GUID travels along
    assert texts(found["DNA"], "answer") == {"": "deoxyribonucleic acid"} and found["DNA"].deck == "Biology::Genetics"
    assert texts(found["Gene unit of heredity? Type: yes"], "answer") == {"": "yes"}  # 'yes' stays text
    cloze = found["{{c1::Ribosomes}} make {{c2::proteins::what?}}"]
    assert cloze.type == "cloze" and texts(cloze, "explanation") == {"": "in the cytoplasm"}
    organelle = found["Which organelle?"]
    assert texts(organelle, "answer") == {"": "nucleus"} and organelle.image == "images/cell-diagram.png"
    assert (tmp_path / "course" / organelle.image).read_bytes() == PNG
    assert texts(found["세포"], "answer") == {"": "cell"} and found["세포"].deck == "Korean"
    report = result.stdout
    assert "1 note of 'Basic (and reversed card)': only the first card (question -> answer) is carried over" in report
    assert "1 note of 'Basic (type in the answer)': the typed answer becomes an answer shown on the back" in report
    assert "note 5 'Which organelle?': audio/video not carried over: nucleus.mp3" in report
    assert "note 5 'Which organelle?': a fact has one image: 'other.png' was not carried over" in report
    assert "note 6 '세포': notetype 'Vocab' is not one quizgen knows" in report
    assert "note 6 '세포': field 'Example' has no place in a fact and was not carried over" in report
    assert "6 facts cite 'import-biology'" in report and "check: ok" in report


def test_legacy_apkg_colpkg_and_deck_filter(anki, tmp_path):
    col = teacher_collection(anki, tmp_path / "teacher")
    legacy = export(anki, col, tmp_path / "legacy.apkg", legacy=True)
    colpkg = tmp_path / "whole.colpkg"
    col.export_collection_package(str(colpkg), include_media=True, legacy=False)  # closes the collection
    with __import__("zipfile").ZipFile(legacy) as zf:
        assert "collection.anki2" in zf.namelist()  # really the legacy format
    for package, expected in ((legacy, 6), (colpkg, 6)):
        target = tmp_path / f"from-{package.stem}"
        result = run("import", package, "--into", target)
        assert result.exit_code == 0, result.output
        facts, _ = imported(target)
        assert len(facts) == expected and by_prompt(facts)["Which organelle?"].image == "images/cell-diagram.png"
    result = run(
        "import", legacy, "--into", tmp_path / "cells", "--deck", "Biology::Cells", "--file", "decks/cells.yaml"
    )
    assert result.exit_code == 0, result.output
    facts, project = imported(tmp_path / "cells")
    assert len(facts) == 3 and [f.path for f in project.files] == ["decks/cells.yaml"]
    result = run("import", legacy, "--into", tmp_path / "x", "--deck", "Chemistry")
    assert (
        result.exit_code == 1
        and "no deck 'Chemistry' (decks: Biology::Cells, Biology::Genetics, Korean)" in result.stderr
    )


def same(text, languages=("ko", "en")):
    """A text written the same in every language is one language-neutral text (the card shows it once either way)."""
    if text is None or len(set(text.values())) != 1 or set(text.langs()) not in ({""}, set(languages)):
        return text
    return type(text)((("", text.values()[0]),))


def comparable(fact):
    """What a round trip must give back: id, type, every text in every language, answer, options, explanation,
    source, quote and tags (deck and file are checked separately)."""
    return (
        fact.id, fact.type, same(fact.question), same(fact.answer), tuple(same(w) for w in fact.wrong or fact.options),
        same(fact.text), same(fact.statement), fact.truth, same(fact.explanation), fact.source, fact.quote,
        tuple(sorted(fact.tags)),
        tuple((c.source, c.quote, c.role) for c in fact.citations),
    )  # fmt: skip


def test_round_trip_of_the_shipped_decks(anki, tmp_path):
    """Every shipped fact comes back from its built .apkg as it was written, and the rebuilt deck has the same GUIDs."""
    from conftest import REPO

    out = tmp_path / "dist"
    result = run("build", REPO, "--out", out, "--format", "apkg", "--no-cache")
    assert result.exit_code == 0, result.output
    original = load_project(str(REPO))
    back = tmp_path / "back"
    for package in sorted(out.glob("*.apkg")):
        result = run("import", package, "--into", back, "--force")
        assert result.exit_code == 0, result.output
        assert "not imported" not in result.output and "cite 'import-" not in result.output
    facts, project = imported(back)
    assert len(facts) == len(original.facts)
    for fact in original.facts:
        assert comparable(facts[fact.id]) == comparable(fact), fact.id
        assert facts[fact.id].deck == fact.deck
        assert facts[fact.id].anki_guid  # a new project has a new id: the old GUIDs are kept explicitly
    assert project.languages == original.languages
    for sid in {f.source for f in original.facts}:
        assert project.sources[sid].title == original.sources[sid].title
        assert project.sources[sid].url == original.sources[sid].url

    # building the imported project gives notes with the very GUIDs of the original packages
    rebuilt = tmp_path / "rebuilt"
    result = run("build", back, "--out", rebuilt, "--format", "apkg")
    assert result.exit_code == 0, result.output
    assert guids_in(anki, out, tmp_path / "a") == guids_in(anki, rebuilt, tmp_path / "b")


def guids_in(anki, folder: Path, scratch: Path) -> dict[str, str]:
    scratch.mkdir()
    col = anki.Collection(str(scratch / "collection.anki2"))
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    for package in sorted(folder.glob("*.apkg")):
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package), options=ImportAnkiPackageOptions()))
    found = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        found[note["FactId"]] = note.guid
    col.close()
    return found


def test_round_trip_into_its_own_project_needs_no_kept_guids(anki, tmp_path):
    root = write_project(
        tmp_path / "course",
        {
            "decks/a.yaml": """\
                deck: "A::B"
                tags: [file-tag]
                facts:
                  - id: neutral
                    question: "Yes"
                    answer: "3.10"
                    explanation: "line one\\nline two <b>not bold</b> & more"
                    source: src
                    quote: "a: quote"
                  - id: mc
                    type: choice
                    question: {ko: 질문, en: Question}
                    answer: {ko: 답, en: Answer}
                    wrong: [{ko: 오답 하나, en: Wrong one}, {ko: 오답 둘, en: Wrong two}, "3"]
                    source: src
                  - id: tf
                    type: truefalse
                    statement: {ko: 참인가?, en: True?}
                    answer: false
                    source: src
                    tags: [x y]
                  - id: cz
                    type: cloze
                    text: "{{c1::서울}} is the capital of {{c2::Korea::country}}"
                    source: src
            """,
        },
    )
    out = tmp_path / "out"
    assert run("build", root, "--out", out, "--format", "apkg").exit_code == 0
    original = {f.id: f for f in load_project(str(root)).facts}
    result = run("import", out / "a.apkg", "--into", root, "--file", "decks/a.yaml", "--force")
    assert result.exit_code == 0, result.output
    facts, _ = imported(root)
    for fid, fact in original.items():
        expected = comparable(fact)
        if fid == "tf":  # Anki tags cannot hold spaces: the writer made 'x y' into 'x_y'
            expected = expected[:11] + (("file-tag", "x_y"),) + expected[12:]
        assert comparable(facts[fid]) == expected, fid
        assert facts[fid].anki_guid == ""  # the project's own GUIDs: nothing to keep


def test_hostile_packages_are_refused_with_a_message(anki, tmp_path, monkeypatch):
    import zipfile

    bomb = tmp_path / "bomb.apkg"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("collection.anki2", b"\0" * (80 * 1024 * 1024))
    result = run("import", bomb, "--into", tmp_path / "c")
    assert result.exit_code == 1 and "refusing a zip bomb" in result.stderr
    notzip = tmp_path / "fake.apkg"
    notzip.write_bytes(b"SQLite format 3\0" + b"x" * 100)
    result = run("import", notzip, "--into", tmp_path / "c")
    assert result.exit_code == 1 and "is not an Anki package (not a zip file" in result.stderr
    garbage = tmp_path / "garbage.apkg"
    with zipfile.ZipFile(garbage, "w") as zf:
        zf.writestr("collection.anki21b", b"not zstd at all")
        zf.writestr("media", b"")
    result = run("import", garbage, "--into", tmp_path / "c")
    assert result.exit_code == 1 and "the Anki backend could not read this package" in result.stderr
    assert not (tmp_path / "c").exists()

    # media names that climb out, an <img> pointing outside, a huge field: reported, never followed
    (tmp_path / "t").mkdir()
    col = anki.Collection(str(tmp_path / "t" / "collection.anki2"))
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = 'Escape? <img src="../../outside.png"><img src="%2e%2e%2fsecret.png">', "no"
    col.add_note(note, col.decks.id("Evil"))
    huge = col.new_note(col.models.by_name("Basic"))
    huge["Front"], huge["Back"] = "Huge?", "x" * 300_000
    col.add_note(huge, col.decks.id("Evil"))
    legacy = export(anki, col, tmp_path / "evil.apkg", legacy=True)
    col.close()
    tampered = tmp_path / "tampered.apkg"
    with zipfile.ZipFile(legacy) as src, zipfile.ZipFile(tampered, "w") as dst:
        dst.writestr("collection.anki2", src.read("collection.anki2"))
        dst.writestr("media", '{"0": "../../outside.png", "1": "/tmp/abs.png"}')
        dst.writestr("0", PNG)
        dst.writestr("1", PNG)
    result = run("import", tampered, "--into", tmp_path / "evil-course")
    assert result.exit_code == 1 and "the Anki backend could not read this package" in result.stderr
    assert not (tmp_path / "outside.png").exists() and not (tmp_path.parent / "outside.png").exists()
    result = run("import", legacy, "--into", tmp_path / "evil-course")
    assert result.exit_code == 0, result.output
    assert "note 1 'Escape?': image '../../outside.png' is not in the package's media" in result.stdout
    assert "note 1 'Escape?': image '%2e%2e%2fsecret.png' is not in the package's media" in result.stdout
    assert "note 2 'Huge?': not imported: a field is longer than 200,000 characters" in result.stdout
    assert not (tmp_path / "evil-course" / "images").exists()

    from quizgen.importers import apkg

    monkeypatch.setattr(apkg, "TIMEOUT", 0.01)
    result = run("import", legacy, "--into", tmp_path / "slow")
    assert result.exit_code == 1 and "took longer than 0.01 s; gave up" in result.stderr


def test_missing_anki_backend_says_how_to_install(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "anki" else real(name, *a))
    package = tmp_path / "deck.apkg"
    package.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    result = run("import", package, "--into", tmp_path / "c")
    assert result.exit_code == 1
    assert "needs the official Anki backend" in result.stderr and "pip install 'quizgen[anki]'" in result.stderr


def test_anki_guid_is_checked_and_unique(project):
    fact = 'deck: {d}\nfacts:\n  - id: {i}\n    question: q{i}\n    answer: a\n    source: src\n    anki_guid: "{g}"\n'
    root = project(
        {
            "decks/a.yaml": fact.format(d="A", i="a", g="x#1"),
            "decks/b.yaml": fact.format(d="B", i="b", g="x#1"),
            "decks/c.yaml": fact.format(d="C", i="c", g="has space"),
        }
    )
    result = run("check", root)
    assert result.exit_code == 1
    assert "decks/c.yaml:7: anki_guid: must be printable ASCII without spaces (an Anki note's GUID)" in result.stderr
    assert "decks/b.yaml:3: anki_guid: 'x#1' is also used at decks/a.yaml:3" in result.stderr


def test_learners_review_history_when_moving_to_the_quizgen_deck(anki, tmp_path, monkeypatch):
    """What README's "Already have a deck?" promises, with the real backend.

    A learner studied the teacher's Basic deck.  The teacher imports it and ships the quizgen build.
    1. The learner imports the build: Anki matches the kept GUIDs but will not move a note to another
       notetype, so those notes are reported as conflicting and left exactly as they were (history
       kept, no duplicates); facts that are new in the build arrive as new notes.
    2. After Browse > Notes > Change Note Type (Basic -> quizgen Basic), an import with "Update notes:
       Always" updates the notes in place, and every review stays (with the default "If newer" they
       update when a later release changes them, since the learner's change is newer than the build).
    """
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
    from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition

    teacher = tmp_path / "learner"
    teacher.mkdir()
    col = anki.Collection(str(teacher / "collection.anki2"))
    deck = col.decks.id("Vocab")
    for front, back in (("apple", "사과"), ("pear", "배")):
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"], note["Back"] = front, back
        col.add_note(note, deck)
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        card.start_timer()
        col.sched.answerCard(card, 3)
    package = export(anki, col, tmp_path / "vocab.apkg")
    history = sorted(col.db.all("SELECT cid, ease FROM revlog"))
    cards = sorted(col.find_cards(""))

    root = write_project(tmp_path / "course", {})
    result = run("import", package, "--into", root, "--source", "src")
    assert result.exit_code == 0, result.output
    with open(root / "decks" / "vocab.yaml", "a", encoding="utf-8") as fh:  # the teacher adds a fact
        fh.write('  - id: "plum"\n    question: "plum"\n    answer: "자두"\n    source: "src"\n')
    out = tmp_path / "out"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the build is older than the learner's change below
    assert run("build", root, "--out", out, "--format", "apkg").exit_code == 0, result.output

    def learner_imports(update=ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER):
        options = ImportAnkiPackageOptions(update_notes=update)
        return col.import_anki_package(
            ImportAnkiPackageRequest(package_path=str(out / "vocab.apkg"), options=options)
        ).log

    log = learner_imports()
    assert (len(log.conflicting), len(log.new), len(log.updated)) == (2, 1, 0)
    assert col.note_count() == 3  # the two old notes, untouched, and 'plum'
    old = [col.get_note(n) for n in col.find_notes("note:Basic")]
    assert sorted(n["Front"] for n in old) == ["apple", "pear"]

    # the learner moves the old notes to the quizgen notetype (what Browse > Change Note Type does)
    basic, quizgen_basic = col.models.by_name("Basic"), col.models.by_name("quizgen Basic")
    request = col.models.change_notetype_info(old_notetype_id=basic["id"], new_notetype_id=quizgen_basic["id"]).input
    request.note_ids.extend(n.id for n in old)
    col.models.change_notetype_of_notes(request)
    log = learner_imports()  # the default: the changed notes are newer than the build, so nothing updates yet
    assert (len(log.conflicting), len(log.new), len(log.updated)) == (0, 0, 0) and len(log.duplicate) == 3
    log = learner_imports(ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS)
    assert (len(log.conflicting), len(log.new), len(log.updated)) == (0, 0, 2)
    assert col.note_count() == 3
    apple = col.get_note(col.find_notes('"FactId:apple"')[0])
    assert apple["Prompt1"] == "apple" and apple["FactId"] == "apple" and apple["Source"] == "A source"
    assert sorted(col.find_cards("-FactId:plum")) == cards  # the same cards ...
    assert sorted(col.db.all("SELECT cid, ease FROM revlog")) == history  # ... with every review
    col.close()
