"""Zip files whose bytes depend only on their contents: fixed entry times, attributes and order.

Used by every writer that ships a package (QTI zips), so that the same inputs always give
byte-identical files.
"""

from __future__ import annotations

import zipfile

ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def entry(name: str, level: int = 6) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    if hasattr(info, "compress_level"):  # Python 3.13+ names it publicly
        info.compress_level = level
    else:
        info._compresslevel = level  # type: ignore[attr-defined]
    info.create_system = 3
    info.external_attr = 0o644 << 16
    return info


def write_zip(path: str, files: list[tuple[str, bytes]]) -> None:
    """Write `files` (name, bytes) in the given order."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            zf.writestr(entry(name), data)
