"""The reference pages are generated from the code; they must say what the code does."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT


def test_settings_and_schema_references_are_current() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_every_page_the_readme_links_exists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?:docs/)[^)#]+)", readme)
    assert len(links) >= 8
    assert [link for link in links if not (ROOT / link).exists()] == []
