"""MkDocs hook: serve the repository's ``CHANGELOG.md`` as the docs page ``changelog.md``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# One changelog, kept at the repository root where packagers and readers expect it; the site shows it too.
CHANGELOG = Path(__file__).resolve().parents[2] / "CHANGELOG.md"


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Replace the placeholder page's text with the root changelog."""
    if page.file.src_uri == "changelog.md":
        return CHANGELOG.read_text(encoding="utf-8")
    return markdown
