"""Where the course content is: inside the installed package, or at the top of a source checkout.

A wheel carries lessons/, exercises/ and assets/ as lambdalab/_content/ (see
pyproject.toml); an editable install or a plain checkout reads them from the
repository, so authors see their edits at once.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def content_root() -> Path:
    """The folder holding lessons/, exercises/ and assets/."""
    installed = _PACKAGE / "_content"
    return installed if installed.is_dir() else _PACKAGE.parent


def scenarios_dir() -> Path:
    return content_root() / "assets" / "scenarios"


def events_dir() -> Path:
    return content_root() / "assets" / "events"


def shipped_scenarios() -> dict[str, Path]:
    """Example scenarios by name (file stem), sorted."""
    folder = scenarios_dir()
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def sample_events() -> dict[str, Path]:
    """Sample events by name (file stem): `event: s3-put` in a scenario."""
    folder = events_dir()
    return {p.stem: p for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}
