"""IMS QTI 2.1 content packages (`<stem>.qti21.zip`): one `assessmentItem` file per question, an
`assessmentTest` with its sections, and `imsmanifest.xml` listing every file, media included.
For OpenOLAT, ILIAS, TAO, Inspera and other QTI 2.1 consumers.

Choice and true/false items use `choiceInteraction` with the `match_correct` template.  Typed
answers (basic, cloze) use `textEntryInteraction`, with the first answer as the correct response
and a case-insensitive `mapping` of every accepted answer (`map_response`; a cloze with several
gaps adds up its gaps and divides by their number).  Points travel as the test's item weights
(`weight identifier="W"`), and the test's outcome processing sums the weighted scores.  Text is
XHTML, escaped by the XML writer.

Explanations and citations are not carried: showing them needs a feedback outcome that the
standard response-processing templates cannot set, and a custom processing block would lose
what the templates guarantee across consumers.  Moodle XML, GIFT and QTI 1.2 carry them.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from ..lms import Blank, Item, exports, ident, output_path, truth_label
from ..model import Project
from ..packaging import write_zip
from . import Options

FORMAT = "qti21"
DESCRIPTION = "IMS QTI 2.1 content packages, one per deck file (and per quiz)"

NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
CP_XSD = "http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
TEMPLATES = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/"


def root_element(tag: str, attrs: dict, ns: str = NS, xsd: str = XSD) -> ET.Element:
    el = ET.Element(tag, {"xmlns": ns, "xmlns:xsi": XSI})
    el.set("xsi:schemaLocation", f"{ns} {xsd}")
    for k, v in attrs.items():
        el.set(k, v)
    return el


def blocks(parent: ET.Element, pairs, tag: str = "p") -> None:
    """Each language's text as its own block; line breaks as <br/>."""
    for lang, text in pairs:
        p = ET.SubElement(parent, tag, {"xml:lang": lang} if lang else {})
        inline(p, text)


def inline(parent: ET.Element, text: str) -> None:
    lines = text.split("\n")
    last = None
    for i, line in enumerate(lines):
        if i == 0:
            parent.text = (parent.text or "") + line
        else:
            last = ET.SubElement(parent, "br")
            last.tail = line


def declare_outcomes(item_el: ET.Element) -> None:
    score = ET.SubElement(
        item_el, "outcomeDeclaration", {"identifier": "SCORE", "cardinality": "single", "baseType": "float"}
    )
    ET.SubElement(ET.SubElement(score, "defaultValue"), "value").text = "0"
    top = ET.SubElement(
        item_el, "outcomeDeclaration", {"identifier": "MAXSCORE", "cardinality": "single", "baseType": "float"}
    )
    ET.SubElement(ET.SubElement(top, "defaultValue"), "value").text = "1"


def text_response(item_el: ET.Element, rid: str, answers) -> None:
    decl = ET.SubElement(
        item_el, "responseDeclaration", {"identifier": rid, "cardinality": "single", "baseType": "string"}
    )
    ET.SubElement(ET.SubElement(decl, "correctResponse"), "value").text = answers[0]
    mapping = ET.SubElement(decl, "mapping", {"defaultValue": "0", "upperBound": "1"})
    for answer in answers:
        ET.SubElement(mapping, "mapEntry", {"mapKey": answer, "mappedValue": "1", "caseSensitive": "false"})


def assessment_item(item: Item, key: str) -> tuple[str, bytes, list[str]]:
    """(identifier, file bytes, media names) of one question."""
    iid = ident(key, item.id)
    el = root_element(
        "assessmentItem", {"identifier": iid, "title": item.name, "adaptive": "false", "timeDependent": "false"}
    )
    media = [item.media_name] if item.image else []
    body = ET.Element("itemBody")
    if item.type in ("choice", "truefalse"):
        if item.type == "choice":
            options = [(texts, correct) for texts, correct in item.options]
            shuffle = "false" if item.fixed_order else "true"
        else:
            options = [(((item.languages[0], truth_label(v, item.languages)),), item.truth is v) for v in (True, False)]
            shuffle = "false"
        ids = [f"choice{i + 1}" for i in range(len(options))]
        decl = ET.SubElement(
            el, "responseDeclaration", {"identifier": "RESPONSE", "cardinality": "single", "baseType": "identifier"}
        )
        correct = ET.SubElement(decl, "correctResponse")
        ET.SubElement(correct, "value").text = ids[[c for _, c in options].index(True)]
        declare_outcomes(el)
        blocks(body, item.prompt)
        add_image(body, item)
        interaction = ET.SubElement(
            body, "choiceInteraction", {"responseIdentifier": "RESPONSE", "shuffle": shuffle, "maxChoices": "1"}
        )
        for cid, (texts, _) in zip(ids, options):
            choice = ET.SubElement(interaction, "simpleChoice", {"identifier": cid, "fixed": "false"})
            if len(texts) == 1:
                inline(choice, texts[0][1])
            else:
                for lang, text in texts:
                    span = ET.SubElement(choice, "span", {"xml:lang": lang} if lang else {})
                    inline(span, text)
                    span.tail = " "
        processing = ET.Element("responseProcessing", {"template": TEMPLATES + "match_correct"})
    elif item.type == "basic":
        text_response(el, "RESPONSE", item.answers)
        declare_outcomes(el)
        blocks(body, item.prompt)
        add_image(body, item)
        p = ET.SubElement(body, "p")
        ET.SubElement(
            p,
            "textEntryInteraction",
            {"responseIdentifier": "RESPONSE", "expectedLength": str(max(8, max(len(a) for a in item.answers)))},
        )
        processing = ET.Element("responseProcessing", {"template": TEMPLATES + "map_response"})
    else:
        gaps = [seg for seg in item.segments if isinstance(seg, Blank)]
        for i, gap in enumerate(gaps, 1):
            text_response(el, f"RESPONSE{i}", gap.answers)
        declare_outcomes(el)
        p = ET.SubElement(body, "p")
        number = 0
        last = None
        for seg in item.segments:
            if isinstance(seg, Blank):
                number += 1
                last = ET.SubElement(
                    p,
                    "textEntryInteraction",
                    {
                        "responseIdentifier": f"RESPONSE{number}",
                        "expectedLength": str(max(6, max(len(a) for a in seg.answers))),
                    },
                )
                last.tail = ""
            elif last is None:
                p.text = (p.text or "") + seg
            else:
                last.tail += seg
        blocks(body, item.others)
        add_image(body, item)
        processing = ET.Element("responseProcessing")
        cond = ET.SubElement(processing, "setOutcomeValue", {"identifier": "SCORE"})
        divide = ET.SubElement(cond, "divide")
        total = ET.SubElement(divide, "sum")
        for i in range(1, len(gaps) + 1):
            ET.SubElement(total, "mapResponse", {"identifier": f"RESPONSE{i}"})
        ET.SubElement(divide, "baseValue", {"baseType": "float"}).text = str(len(gaps))
    el.append(body)
    el.append(processing)
    ET.indent(el, "  ")
    return iid, b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(el, encoding="utf-8") + b"\n", media


def add_image(body: ET.Element, item: Item) -> None:
    if item.image:
        p = ET.SubElement(body, "p")
        ET.SubElement(p, "img", {"src": f"media/{item.media_name}", "alt": ""})


def package(project: Project, key: str, title: str, sections, settings: dict) -> list[tuple[str, bytes]]:
    """sections: [(title, [Item])] -> the package's files (manifest first)."""
    tid = ident(project.id, key)
    files: list[tuple[str, bytes]] = []
    manifest_items = []
    test = root_element("assessmentTest", {"identifier": tid, "title": title})
    outcome = ET.SubElement(
        test, "outcomeDeclaration", {"identifier": "SCORE", "cardinality": "single", "baseType": "float"}
    )
    ET.SubElement(ET.SubElement(outcome, "defaultValue"), "value").text = "0"
    part = ET.SubElement(
        test, "testPart", {"identifier": "part1", "navigationMode": "nonlinear", "submissionMode": "simultaneous"}
    )
    if settings.get("minutes"):
        ET.SubElement(part, "timeLimits", {"maxTime": str(int(settings["minutes"]) * 60)})
    media_files: dict[str, str] = {}
    for s_index, (s_title, items) in enumerate(sections, 1):
        section = ET.SubElement(
            part, "assessmentSection", {"identifier": f"section{s_index}", "title": s_title, "visible": "true"}
        )
        if s_index == 1 and settings.get("instructions"):  # the quiz's instructions, shown to the candidate
            rubric = ET.SubElement(section, "rubricBlock", {"view": "candidate"})
            for line in settings["instructions"].split("\n"):
                ET.SubElement(rubric, "p").text = line
        for item in items:
            iid, data, media = assessment_item(item, tid)
            href = f"items/{iid}.xml"
            files.append((href, data))
            manifest_items.append((iid, href, media))
            for name in media:
                media_files[name] = item.image
            ref = ET.SubElement(section, "assessmentItemRef", {"identifier": f"ref-{iid}", "href": f"../{href}"})
            ET.SubElement(ref, "weight", {"identifier": "W", "value": f"{item.points:g}"})
    processing = ET.SubElement(test, "outcomeProcessing")
    setv = ET.SubElement(processing, "setOutcomeValue", {"identifier": "SCORE"})
    ET.SubElement(ET.SubElement(setv, "sum"), "testVariables", {"variableIdentifier": "SCORE", "weightIdentifier": "W"})
    ET.indent(test, "  ")
    test_href = f"tests/{tid}.xml"
    files.insert(
        0, (test_href, b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(test, encoding="utf-8") + b"\n")
    )
    manifest = root_element("manifest", {"identifier": ident(tid, "manifest")}, CP_NS, CP_XSD)
    ET.SubElement(manifest, "organizations")
    resources = ET.SubElement(manifest, "resources")
    res = ET.SubElement(resources, "resource", {"identifier": tid, "type": "imsqti_test_xmlv2p1", "href": test_href})
    ET.SubElement(res, "file", {"href": test_href})
    for iid, _, _ in manifest_items:
        ET.SubElement(res, "dependency", {"identifierref": iid})
    for iid, href, media in manifest_items:
        r = ET.SubElement(resources, "resource", {"identifier": iid, "type": "imsqti_item_xmlv2p1", "href": href})
        ET.SubElement(r, "file", {"href": href})
        for name in media:
            ET.SubElement(r, "file", {"href": f"items/media/{name}"})
    for name, rel in sorted(media_files.items()):
        with open(os.path.join(project.root, rel), "rb") as fh:
            files.append((f"items/media/{name}", fh.read()))
    ET.indent(manifest, "  ")
    files.insert(
        0,
        (
            "imsmanifest.xml",
            b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(manifest, encoding="utf-8") + b"\n",
        ),
    )
    return files


def write(project: Project, out: str, options: Options) -> list[str]:
    written = []
    for export in exports(project, options.lang or "both"):
        path, rel = output_path(out, export, ".qti21.zip")
        settings = {"minutes": export.minutes, "instructions": export.instructions}
        write_zip(path, package(project, export.key, export.title, list(export.sections), settings))
        written.append(rel)
    return written
