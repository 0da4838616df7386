"""Image -> measured marks.  Knows the sheet layout, nothing of quizzes, keys or scores.

For each page: find the ArUco corner markers (three are enough, so a cut corner
does not lose the page), map the layout's mm onto the image with a homography
fitted to every marker corner found, warp the page upright at a fixed
resolution (upside-down pages are upright after this by construction: each
marker knows which corner it is), and measure every bubble.

A bubble's fill is the share of "ink" in a disc shrunk inside its printed ring,
where ink is graded softly between a low and a high darkness relative to this
page's own paper white and marker black.  So an erased smudge or the light
printed label (below the low level) adds nearly nothing, while a pencil fill,
a tick or a cross (above the high level where the stroke is) adds its area.
The thresholds that turn fills into marked/empty/uncertain live in score.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import cv2
import numpy as np

PX_PER_MM = 6.0  # the upright page is measured at about 150 dpi
PDF_DPI = 150  # a copier's 200-300 dpi PDF loses nothing the bubbles need at 150
DISC = 0.62  # measured disc radius / printed bubble radius: inside the ring whatever the registration
INK_LOW, INK_HIGH = 0.22, 0.55  # darkness below LOW is paper, above HIGH is a full stroke
DETECT_SIDE = 1300  # markers are found on the page scaled to this longest side (about 110 dpi on A4)
SCALE_TOLERANCE = 0.03  # markers further off than 3% of their printed distance: "fit to page"
MAX_RESIDUAL_MM = 1.2  # markers that disagree by more than this with one homography are not trusted
BLANK_INK = 0.002  # a page with less dark area than this, and no markers, is the back of a sheet
MAX_PIXELS = 60_000_000  # an A4 page at 600 dpi is 35 MP; more is no scan (or a decompression bomb)
MAX_FILE_BYTES = 300_000_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SCAN_SUFFIXES = (".pdf", *IMAGE_SUFFIXES)


@dataclass
class Page:
    file: str  # as the user named it (a folder's files as folder/name)
    page: int  # from 1 (images: always 1)
    image: np.ndarray | None  # greyscale uint8, None when the file could not be read
    error: str = ""


@dataclass
class Reading:
    status: str  # "ok", "blank", "no-markers"
    markers: list[int] = field(default_factory=list)  # ids found
    fills: list[float] = field(default_factory=list)  # per layout bubble, in layout order
    code: str = ""  # the sheet code read (hex), "" when not read
    scale: float | None = None  # marker distance / expected, when the image is the whole page
    upside_down: bool = False
    residual_mm: float = 0.0
    upright: np.ndarray | None = None  # the warped page (kept for debugging and tests)


def scan_files(paths: list[str]) -> list[str]:
    """The files named, a folder's scans in sorted order (not recursing into hidden entries)."""
    out = []
    for path in paths:
        if os.path.isdir(path):
            for dirpath, dirnames, names in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(names):
                    if not name.startswith(".") and name.lower().endswith(SCAN_SUFFIXES):
                        out.append(os.path.join(dirpath, name))
        else:
            out.append(path)
    return out


def load_pages(path: str, dpi: int = PDF_DPI):
    """Yield every page of one scan file as a Page (an unreadable file as one Page with an error)."""
    lower = path.lower()
    try:
        if lower.endswith(".pdf"):
            import pypdfium2 as pdfium

            doc = pdfium.PdfDocument(path)
            try:
                for i in range(len(doc)):
                    page = doc[i]
                    w_pt, h_pt = page.get_size()
                    scale = dpi / 72
                    if w_pt * h_pt * scale * scale > MAX_PIXELS:  # a poster-sized page: render it smaller
                        scale = (MAX_PIXELS / max(w_pt * h_pt, 1.0)) ** 0.5
                    bitmap = page.render(scale=scale, grayscale=True)
                    image = bitmap.to_numpy()
                    if image.ndim == 3:
                        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
                    yield Page(path, i + 1, np.ascontiguousarray(image))
                    page.close()
            finally:
                doc.close()
            return
        if os.path.getsize(path) > MAX_FILE_BYTES:
            yield Page(path, 1, None, f"larger than {MAX_FILE_BYTES // 1_000_000} MB; not a page scan")
            return
        data = np.fromfile(path, dtype=np.uint8)
        size = image_size(data[:65536].tobytes())
        if size is not None and size[0] * size[1] > MAX_PIXELS:
            yield Page(path, 1, None, f"{size[0]}x{size[1]} pixels is far more than a page scan needs")
            return
        image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
        if image is None:
            yield Page(path, 1, None, "not a readable PDF, PNG or JPEG file")
        else:
            yield Page(path, 1, image)
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a fact about this file, not a crash
        yield Page(path, 1, None, f"cannot read it: {type(exc).__name__}: {exc}")


def image_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header, read before decoding so a bomb is refused unopened."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(head):
        if head[i] != 0xFF:
            i += 1
            continue
        marker = head[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        length = int.from_bytes(head[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(head[i + 7 : i + 9], "big"), int.from_bytes(head[i + 5 : i + 7], "big")
        i += 2 + length
    return None


_DETECTOR = None


def detector():
    global _DETECTOR
    if _DETECTOR is None:
        params = cv2.aruco.DetectorParameters()
        params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
        dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
        _DETECTOR = cv2.aruco.ArucoDetector(dictionary, params)
    return _DETECTOR


def find_markers(gray: np.ndarray, sheet: dict) -> dict[int, np.ndarray]:
    """marker id -> its 4 corners in image pixels (the marker's own TL, TR, BR, BL), for the sheet's ids."""
    wanted = {m["id"] for m in sheet["markers"]}
    scale = 1.0
    longest = max(gray.shape)
    small = gray
    if longest > DETECT_SIDE:  # detection needs no more than ~100 dpi; corners are refined at full size below
        scale = DETECT_SIDE / longest
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    pad = 16  # a marker touching the image edge (a copier's 110%, a tight crop) still needs a white rim
    small = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    corners, ids, _ = detector().detectMarkers(small)
    found: dict[int, np.ndarray] = {}
    if ids is None:
        return found
    for quad, marker_id in zip(corners, ids.ravel()):
        marker_id = int(marker_id)
        if marker_id not in wanted:
            continue
        quad = (quad.reshape(4, 2) - pad) / scale
        area = cv2.contourArea(quad.astype(np.float32))
        if marker_id not in found or area > cv2.contourArea(found[marker_id].astype(np.float32)):
            found[marker_id] = quad
    if scale != 1.0 and found:
        pts = np.concatenate(list(found.values())).astype(np.float32).reshape(-1, 1, 2)
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.05)
        pts = cv2.cornerSubPix(gray, pts, (5, 5), (-1, -1), criteria).reshape(-1, 4, 2)
        found = {k: pts[i] for i, k in enumerate(found)}
    return found


def find_squares(gray: np.ndarray, sheet: dict) -> dict[int, np.ndarray]:
    """Fallback when no ArUco pattern reads: four dark squares of the markers' size near the corners.

    Plain squares carry no identity, so the page is taken as upright (each square is assigned to
    the image corner it sits nearest); the homography residual and the sheet code still check it."""
    scale = min(1.0, DETECT_SIDE / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    _, binary = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    h, w = small.shape
    page_w = sheet["page"]["width_mm"]
    side = {m["id"]: m["size_mm"] for m in sheet["markers"]}
    expected = max(side.values()) / page_w * min(w, h * page_w / sheet["page"]["height_mm"])
    candidates = []
    for contour in contours:
        area = cv2.contourArea(contour)
        if not (0.4 * expected**2 <= area <= 2.0 * expected**2):
            continue
        quad = cv2.approxPolyDP(contour, 0.08 * cv2.arcLength(contour, True), True).reshape(-1, 2)
        if len(quad) != 4 or not cv2.isContourConvex(quad):
            continue
        rect_w, rect_h = cv2.minAreaRect(contour)[1]
        if min(rect_w, rect_h) < 0.75 * max(rect_w, rect_h) or area < 0.8 * rect_w * rect_h:
            continue
        candidates.append(order_quad(quad.astype(np.float64)) / scale)
    if len(candidates) < 4:
        return {}
    corner_of = {m["corner"]: m["id"] for m in sheet["markers"] if "corner" in m}
    if len(corner_of) != 4:
        return {}
    centres = [c.mean(axis=0) for c in candidates]
    picks = {
        "top-left": min(range(len(centres)), key=lambda i: centres[i][0] + centres[i][1]),
        "bottom-right": max(range(len(centres)), key=lambda i: centres[i][0] + centres[i][1]),
        "top-right": max(range(len(centres)), key=lambda i: centres[i][0] - centres[i][1]),
        "bottom-left": min(range(len(centres)), key=lambda i: centres[i][0] - centres[i][1]),
    }
    if len(set(picks.values())) != 4:
        return {}
    return {corner_of[corner]: candidates[i] for corner, i in picks.items()}


def order_quad(quad: np.ndarray) -> np.ndarray:
    """A quadrilateral's corners as top-left, top-right, bottom-right, bottom-left (image axes)."""
    s, d = quad.sum(axis=1), quad[:, 0] - quad[:, 1]
    return np.array([quad[np.argmin(s)], quad[np.argmax(d)], quad[np.argmax(s)], quad[np.argmin(d)]])


def marker_corners_mm(marker: dict) -> np.ndarray:
    x, y, half = marker["x_mm"], marker["y_mm"], marker["size_mm"] / 2
    return np.array([[x - half, y - half], [x + half, y - half], [x + half, y + half], [x - half, y + half]])


def is_blank(gray: np.ndarray) -> bool:
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    white = float(np.percentile(small, 95))
    return float(np.mean(small < white * 0.55)) < BLANK_INK


def read_page(gray: np.ndarray, sheet: dict, keep_image: bool = False) -> Reading:
    """Measure one page against `sheet`; status "no-markers" or "blank" when it cannot be read."""
    found = find_markers(gray, sheet)
    if len(found) < 3:
        found = find_squares(gray, sheet) or found
    if len(found) < 3:
        return Reading("blank" if not found and is_blank(gray) else "no-markers", sorted(found))
    by_id = {m["id"]: m for m in sheet["markers"]}
    src = np.concatenate([found[i] for i in sorted(found)]).astype(np.float64)
    mm = np.concatenate([marker_corners_mm(by_id[i]) for i in sorted(found)])
    dst = mm * PX_PER_MM
    matrix, _ = cv2.findHomography(src, dst, 0)
    if matrix is None:
        return Reading("no-markers", sorted(found))
    projected = cv2.perspectiveTransform(src.reshape(-1, 1, 2), matrix).reshape(-1, 2)
    residual = float(np.max(np.linalg.norm(projected - dst, axis=1))) / PX_PER_MM
    if residual > MAX_RESIDUAL_MM:
        return Reading("no-markers", sorted(found), residual_mm=residual)
    width = int(round(sheet["page"]["width_mm"] * PX_PER_MM))
    height = int(round(sheet["page"]["height_mm"] * PX_PER_MM))
    upright = cv2.warpPerspective(gray, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=255)

    # this page's paper white and marker black, so grey scans and dark copies read alike
    white = float(np.percentile(upright[::4, ::4], 90))
    blacks = []
    for i in found:
        x0, y0 = (marker_corners_mm(by_id[i])[0] * PX_PER_MM).astype(int)
        size = int(by_id[i]["size_mm"] * PX_PER_MM)
        blacks.append(np.percentile(upright[y0 : y0 + size, x0 : x0 + size], 10))
    black = float(np.median(blacks))
    span = max(white - black, 40.0)

    def ink(patch):  # 0 for paper, smudges and printed labels; 1 for a full stroke
        darkness = (white - patch.astype(np.float32)) / span
        return np.clip((darkness - INK_LOW) / (INK_HIGH - INK_LOW), 0.0, 1.0)

    def darkness(patch):
        return np.clip((white - patch.astype(np.float32)) / span, 0.0, 1.0)

    fills = [disc_mean(upright, b["x_mm"], b["y_mm"], b["r_mm"] * DISC, ink) for b in sheet["bubbles"]]
    bits = []
    for cell in sheet.get("code_cells", ()):
        value = disc_mean(upright, cell["x_mm"], cell["y_mm"], cell["size_mm"] * 0.3, darkness)
        bits.append("1" if value > 0.5 else "0")
    code = f"{int(''.join(bits), 2):0{len(bits) // 4}x}" if bits else ""

    # upside down: the top-left marker sits in the lower half of the image
    tl = found.get(0)
    if tl is not None:
        upside_down = bool(tl[:, 1].mean() > gray.shape[0] / 2)
    else:
        inverse = np.linalg.inv(matrix)
        centre = cv2.perspectiveTransform(np.array([[[0.0, 0.0]]]), inverse)[0, 0]
        upside_down = bool(centre[1] > gray.shape[0] / 2)
    return Reading(
        "ok",
        sorted(found),
        fills,
        code,
        page_scale(gray.shape, found, by_id, sheet),
        upside_down,
        residual,
        upright if keep_image else None,
    )


def page_scale(shape, found, by_id, sheet) -> float | None:
    """Marker distance over its printed distance, when the image is the whole page (its aspect says so).

    A sheet printed with "fit to page" has its markers closer together than the paper is wide; the
    grader still reads it (the homography absorbs the scale), but says so."""
    h_px, w_px = shape
    w_mm, h_mm = sheet["page"]["width_mm"], sheet["page"]["height_mm"]
    aspect, expected = h_px / w_px, h_mm / w_mm
    if abs(aspect - expected) > 0.02 * expected and abs(1 / aspect - expected) > 0.02 * expected:
        return None
    px_per_mm = (w_px * h_px / (w_mm * h_mm)) ** 0.5
    ratios = []
    ids = sorted(found)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            d_px = np.linalg.norm(found[a].mean(axis=0) - found[b].mean(axis=0))
            d_mm = np.hypot(by_id[a]["x_mm"] - by_id[b]["x_mm"], by_id[a]["y_mm"] - by_id[b]["y_mm"])
            ratios.append(d_px / (d_mm * px_per_mm))
    return float(np.median(ratios)) if ratios else None


_DISCS: dict[float, tuple[np.ndarray, int]] = {}


def disc_mean(page: np.ndarray, x_mm: float, y_mm: float, r_mm: float, measure) -> float:
    """Mean of `measure(pixels)` over a disc of an upright page at (x, y) mm, of radius r mm."""
    r_px = r_mm * PX_PER_MM
    key = round(r_px, 2)
    if key not in _DISCS:
        n = int(np.ceil(r_px))
        yy, xx = np.mgrid[-n : n + 1, -n : n + 1]
        _DISCS[key] = ((xx**2 + yy**2) <= r_px**2, n)
    mask, n = _DISCS[key]
    cx, cy = int(round(x_mm * PX_PER_MM)), int(round(y_mm * PX_PER_MM))
    patch = page[cy - n : cy + n + 1, cx - n : cx + n + 1]
    if patch.shape != mask.shape:
        return 0.0
    return float(measure(patch[mask]).mean())
