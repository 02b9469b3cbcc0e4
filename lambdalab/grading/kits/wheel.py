"""A wheel of the lambdalab that is running, for a grading machine to install: built from the installed
package and its course content (so it works from a wheel install or an editable one, with no build tool),
without the reference solutions, which the answer key carries. Reproducible: fixed file times and order."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from importlib import metadata
from pathlib import Path

from lambdalab import __version__, content

PACKAGE = Path(__file__).resolve().parents[2]  # lambdalab/
CONTENT = ("lessons", "exercises", "assets")
WHEEL_FILE = "Wheel-Version: 1.0\nGenerator: lambdalab\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
_STAMP = (2026, 1, 1, 0, 0, 0)


def wheel_name() -> str:
    return f"lambdalab-{__version__}-py3-none-any.whl"


def build_wheel(folder: Path) -> Path:
    """Write the wheel into `folder`; its path."""
    files: dict[str, bytes] = {}
    for path in _files(PACKAGE):
        if "_content" not in path.relative_to(PACKAGE).parts:
            files[f"lambdalab/{path.relative_to(PACKAGE).as_posix()}"] = path.read_bytes()
    root = content.content_root()
    for top in CONTENT:
        for path in _files(root / top):
            if "solution" not in path.relative_to(root / top).parts:
                files[f"lambdalab/_content/{path.relative_to(root).as_posix()}"] = path.read_bytes()
    info = f"lambdalab-{__version__}.dist-info"
    distribution = metadata.distribution("lambdalab")
    metadata_text = distribution.read_text("METADATA")
    if metadata_text is None:  # an install with .egg-info has PKG-INFO instead, which a wheel cannot carry
        raise RuntimeError("lambdalab's installation has no METADATA file to put in the wheel: reinstall it with pip")
    files[f"{info}/METADATA"] = metadata_text.encode()
    files[f"{info}/entry_points.txt"] = (distribution.read_text("entry_points.txt") or "").encode()
    files[f"{info}/WHEEL"] = WHEEL_FILE.encode()
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    target = folder / wheel_name()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, _STAMP)
            entry.external_attr = 0o644 << 16
            wheel.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return target


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
