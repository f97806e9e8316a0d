"""The release files exist and agree: LICENSE, CHANGELOG.md, CITATION.cff and the wheel metadata."""

import email
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import jepa_agent

ROOT = Path(__file__).resolve().parents[1]
VERSION = jepa_agent.__version__


def citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


def test_version_is_semantic():
    """`jepa_agent.__version__` is MAJOR.MINOR.PATCH."""
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION), VERSION


def test_citation_matches_the_package():
    """CITATION.cff is CFF 1.2.0 and names the package's version, the MIT license and the repository."""
    cff = citation()
    assert cff["cff-version"] == "1.2.0"
    assert str(cff["version"]) == VERSION
    assert cff["license"] == "MIT"
    assert cff["authors"] == [{"name": "The jepa-agent authors"}]
    assert cff["repository-code"] == "https://github.com/jepa-agent/jepa-agent"
    assert {"title", "message", "date-released"} <= set(cff)


def test_changelog_has_the_current_version_dated_as_the_citation():
    """CHANGELOG.md has a `## [VERSION] - DATE` section, dated as CITATION.cff's release."""
    text = (ROOT / "CHANGELOG.md").read_text()
    found = re.search(rf"^## \[{re.escape(VERSION)}\] - (\d{{4}}-\d{{2}}-\d{{2}})$", text, flags=re.MULTILINE)
    assert found, f"CHANGELOG.md has no '## [{VERSION}] - YYYY-MM-DD' section"
    assert found.group(1) == str(citation()["date-released"])
    assert f"[{VERSION}]: https://github.com/jepa-agent/jepa-agent/" in text  # the section's link


def test_license_is_mit():
    """LICENSE is the MIT license text with the project's copyright line."""
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 The jepa-agent authors" in text
    assert "Permission is hereby granted, free of charge, to any person obtaining a copy" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_wheel_metadata_agrees(tmp_path):
    """The wheel's metadata (built from pyproject.toml) has the package's version, the MIT
    license expression with LICENSE shipped, and the project URLs."""
    # PEP 639 license expressions need setuptools 77; pip builds with the newest in isolation.
    pytest.importorskip("setuptools", minversion="77", reason="building metadata needs setuptools >= 77")
    code = ("import sys, setuptools.build_meta as b; "
            "print(b.prepare_metadata_for_build_wheel(sys.argv[1]), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    meta = email.message_from_string(next(tmp_path.glob("*.dist-info/METADATA")).read_text())
    assert meta["Name"] == "jepa-agent" and meta["Version"] == VERSION
    assert meta["License-Expression"] == "MIT" and meta.get_all("License-File") == ["LICENSE"]
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(urls)
    assert urls["Changelog"].endswith("CHANGELOG.md")
