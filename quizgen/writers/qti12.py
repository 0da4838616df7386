"""Canvas-style IMS QTI 1.2 packages (`<stem>.qti12.zip`), for Canvas (Settings → Import course
content → "QTI .zip file"), Blackboard and other QTI 1.2 consumers.

The package holds `imsmanifest.xml`, the assessment `<id>/<id>.xml`, Canvas's
`<id>/assessment_meta.xml`, and each image as a webcontent resource.  The traps:
- the assessment's `ident`, the meta file's `identifier` and the manifest's resource
  identifiers must all match, or Canvas ignores the title and settings;
- Canvas reads `question_type` and `points_possible` from each item's qtimetadata;
- a cloze is `fill_in_multiple_blanks_question`: the text holds `[blank1]` markers and each
  blank is its own `response_lid` whose labels are the accepted answers;
- text is HTML (`texttype="text/html"`), escaped once as HTML and once by the XML writer.
Identifiers are derived from the project id and the fact ids, so re-imports are stable.
"""

from __future__ import annotations

import html
import os
import xml.etree.ElementTree as ET

from ..lms import Blank, Item, exports, ident, output_path, truth_label
from ..model import Project
from ..packaging import write_zip
from . import Options

FORMAT = "qti12"
DESCRIPTION = "Canvas-style QTI 1.2 .zip packages, one per deck file (and per quiz)"

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

TYPES = {
    "choice": "multiple_choice_question",
    "truefalse": "true_false_question",
    "basic": "short_answer_question",
    "cloze": "fill_in_multiple_blanks_question",
}


def esc(text: str) -> str:
    return html.escape(text, quote=False).replace("\n", "<br>")


def paragraphs(pairs) -> str:
    return "".join(f'<p lang="{k}">{esc(v)}</p>' if k else f"<p>{esc(v)}</p>" for k, v in pairs)


def mattext(parent: ET.Element, value: str, texttype: str = "text/html") -> None:
    material = ET.SubElement(parent, "material")
    ET.SubElement(material, "mattext", {"texttype": texttype}).text = value


def metadata(parent: ET.Element, fields: list[tuple[str, str]]) -> None:
    meta = ET.SubElement(parent, "qtimetadata")
    for label, entry in fields:
        field = ET.SubElement(meta, "qtimetadatafield")
        ET.SubElement(field, "fieldlabel").text = label
        ET.SubElement(field, "fieldentry").text = entry


def image_html(item: Item, folder: str) -> str:
    if not item.image:
        return ""
    return f'<p><img src="$IMS-CC-FILEBASE$/{folder}/{html.escape(item.media_name, quote=True)}" alt=""></p>'


def set_score(parent: ET.Element, respident: str, value: str, score: str, action: str = "Set", case=None) -> None:
    cond = ET.SubElement(parent, "respcondition", {"continue": "Yes" if action == "Add" else "No"})
    var = ET.SubElement(cond, "conditionvar")
    attrs = {"respident": respident}
    if case is not None:
        attrs["case"] = case
    ET.SubElement(var, "varequal", attrs).text = value
    ET.SubElement(cond, "setvar", {"action": action, "varname": "SCORE"}).text = score


def item_element(section: ET.Element, item: Item, key: str, media_folder: str) -> None:
    el = ET.SubElement(section, "item", {"ident": ident(key, item.id), "title": item.name})
    meta = ET.SubElement(el, "itemmetadata")
    fields = [("question_type", TYPES[item.type]), ("points_possible", f"{item.points:g}")]
    presentation = ET.Element("presentation")
    processing = ET.Element("resprocessing")
    outcomes = ET.SubElement(processing, "outcomes")
    ET.SubElement(outcomes, "decvar", {"maxvalue": "100", "minvalue": "0", "varname": "SCORE", "vartype": "Decimal"})
    if item.type == "cloze":
        body, blanks = "<p>", []
        for seg in item.segments:
            if isinstance(seg, Blank):
                name = f"blank{len(blanks) + 1}"
                blanks.append((name, seg))
                body += f"[{name}]"
            else:
                body += esc(seg)
        body += "</p>" + paragraphs(item.others)
        mattext(presentation, body + image_html(item, media_folder))
        for name, blank in blanks:
            lid = ET.SubElement(presentation, "response_lid", {"ident": f"response_{name}"})
            mattext(lid, name, "text/plain")
            choice = ET.SubElement(lid, "render_choice")
            for i, answer in enumerate(blank.answers):
                label = ET.SubElement(choice, "response_label", {"ident": ident(key, item.id, name, str(i))})
                mattext(label, answer, "text/plain")
        share = f"{100 / len(blanks):.2f}" if blanks else "100"
        for name, blank in blanks:
            for i, _ in enumerate(blank.answers):
                set_score(processing, f"response_{name}", ident(key, item.id, name, str(i)), share, "Add")
    else:
        mattext(presentation, paragraphs(item.prompt) + image_html(item, media_folder))
        if item.type in ("choice", "truefalse"):
            if item.type == "choice":
                options = [(paragraphs(texts), correct) for texts, correct in item.options]
                shuffle = "No" if item.fixed_order else "Yes"
            else:
                options = [(f"<p>{esc(truth_label(v, item.languages))}</p>", item.truth is v) for v in (True, False)]
                shuffle = "No"
            lid = ET.SubElement(presentation, "response_lid", {"ident": "response1", "rcardinality": "Single"})
            choice = ET.SubElement(lid, "render_choice", {"shuffle": shuffle})
            ids = [ident(key, item.id, "option", str(i)) for i in range(len(options))]
            for oid, (text, _) in zip(ids, options):
                label = ET.SubElement(choice, "response_label", {"ident": oid})
                mattext(label, text)
            fields.append(("original_answer_ids", ",".join(ids)))
            for oid, (_, correct) in zip(ids, options):
                if correct:
                    set_score(processing, "response1", oid, "100")
        else:
            resp = ET.SubElement(presentation, "response_str", {"ident": "response1", "rcardinality": "Single"})
            ET.SubElement(ET.SubElement(resp, "render_fib"), "response_label", {"ident": "answer1", "rshuffle": "No"})
            cond = ET.SubElement(processing, "respcondition", {"continue": "No"})
            var = ET.SubElement(cond, "conditionvar")
            for answer in item.answers:
                ET.SubElement(var, "varequal", {"respident": "response1", "case": "No"}).text = answer
            ET.SubElement(cond, "setvar", {"action": "Set", "varname": "SCORE"}).text = "100"
    metadata(meta, fields)
    el.append(presentation)
    el.append(processing)
    if item.feedback:
        ET.SubElement(processing, "respcondition", {"continue": "Yes"})
        last = processing[-1]
        ET.SubElement(ET.SubElement(last, "conditionvar"), "other")
        ET.SubElement(last, "displayfeedback", {"feedbacktype": "Response", "linkrefid": "general_fb"})
        fb = ET.SubElement(el, "itemfeedback", {"ident": "general_fb"})
        flow = ET.SubElement(fb, "flow_mat")
        mattext(flow, "".join(f"<p>{esc(p)}</p>" for p in item.feedback))


def xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root, "  ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def package(project: Project, key: str, title: str, items: list[Item], settings: dict) -> list[tuple[str, bytes]]:
    """The files of one package: manifest, assessment, Canvas meta, images."""
    aid = ident(project.id, key)
    media_folder = f"{aid}/media"
    root = ET.Element("questestinterop", {"xmlns": QTI_NS, "xmlns:xsi": XSI})
    root.set("xsi:schemaLocation", f"{QTI_NS} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd")
    assessment = ET.SubElement(root, "assessment", {"ident": aid, "title": title})
    metadata(assessment, [("cc_maxattempts", "1")])
    section = ET.SubElement(assessment, "section", {"ident": "root_section"})
    for item in items:
        item_element(section, item, aid, media_folder)
    meta = ET.Element("quiz", {"identifier": aid, "xmlns": CANVAS_NS, "xmlns:xsi": XSI})
    meta.set("xsi:schemaLocation", f"{CANVAS_NS} https://canvas.instructure.com/xsd/cccv1p0.xsd")
    ET.SubElement(meta, "title").text = title
    ET.SubElement(meta, "description").text = settings.get("description", "")
    ET.SubElement(meta, "shuffle_answers").text = "true" if settings.get("shuffle", True) else "false"
    ET.SubElement(meta, "scoring_policy").text = "keep_highest"
    ET.SubElement(meta, "quiz_type").text = "assignment"
    ET.SubElement(meta, "points_possible").text = f"{sum(i.points for i in items):g}"
    if settings.get("minutes"):
        ET.SubElement(meta, "time_limit").text = str(settings["minutes"])
    ET.SubElement(meta, "allowed_attempts").text = "1"
    media = sorted({(i.media_name, i.image) for i in items if i.image})
    manifest = ET.Element("manifest", {"identifier": ident(aid, "manifest"), "xmlns": CP_NS})
    ET.SubElement(manifest, "organizations")
    resources = ET.SubElement(manifest, "resources")
    res = ET.SubElement(
        resources, "resource", {"identifier": aid, "type": "imsqti_xmlv1p2", "href": f"{aid}/{aid}.xml"}
    )
    ET.SubElement(res, "file", {"href": f"{aid}/{aid}.xml"})
    ET.SubElement(res, "dependency", {"identifierref": ident(aid, "meta")})
    meta_res = ET.SubElement(
        resources,
        "resource",
        {
            "identifier": ident(aid, "meta"),
            "type": "associatedcontent/imscc_xmlv1p1/learning-application-resource",
            "href": f"{aid}/assessment_meta.xml",
        },
    )
    ET.SubElement(meta_res, "file", {"href": f"{aid}/assessment_meta.xml"})
    files = [
        ("imsmanifest.xml", b""),
        (f"{aid}/{aid}.xml", xml_bytes(root)),
        (f"{aid}/assessment_meta.xml", xml_bytes(meta)),
    ]
    for name, rel in media:
        href = f"{media_folder}/{name}"
        r = ET.SubElement(resources, "resource", {"identifier": ident(aid, name), "type": "webcontent", "href": href})
        ET.SubElement(r, "file", {"href": href})
        with open(os.path.join(project.root, rel), "rb") as fh:
            files.append((href, fh.read()))
    files[0] = ("imsmanifest.xml", xml_bytes(manifest))
    return files


def write(project: Project, out: str, options: Options) -> list[str]:
    written = []
    for export in exports(project, options.lang or "both"):
        path, rel = output_path(out, export, ".qti12.zip")
        settings = {"minutes": export.minutes, "description": export.instructions, "shuffle": True}
        write_zip(path, package(project, export.key, export.title, export.items, settings))
        written.append(rel)
    return written
