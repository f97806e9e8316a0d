"""The docs' and README's results tables are what docs/gen_results.py makes of benchmarks/results/."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_results", ROOT / "docs" / "gen_results.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_results", module)
    spec.loader.exec_module(module)
    return module


gen = _generator()


@pytest.mark.parametrize("page", gen.PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_tables_are_generated(page):
    """Every table between results markers equals what its generator makes from the results files."""
    text = page.read_text()
    new, names = gen.render(text)
    assert new == text, f"{page.relative_to(ROOT)}: tables {names} are stale: run `python docs/gen_results.py`"


def test_every_table_is_on_a_page():
    """Each registered table appears on some page, and the README holds the headline."""
    used = set()
    for page in gen.PAGES:
        used.update(gen.render(page.read_text())[1])
    assert used == set(gen.TABLES), sorted(set(gen.TABLES) - used)
    assert "<!-- results:headline -->" in (ROOT / "README.md").read_text()


def test_unknown_table_is_refused():
    """A marker naming no generator is an error that lists the known ones."""
    with pytest.raises(KeyError, match="unknown results table 'nope'"):
        gen.render("<!-- results:nope -->\n<!-- results:end -->\n")


def test_find_refuses_an_ambiguous_match():
    """A table never picks one of several records that fit: it names the file and the match."""
    with pytest.raises(LookupError, match="results_60k_achieve_200.json: .* records match"):
        gen.find("exploration_free/results_60k_achieve_200.json")


def test_no_results_table_is_typed_by_hand():
    """Outside the results markers, no table row of a results page (the README, docs/results/,
    benchmarks/results/*/README.md) holds a measured number (a decimal): every results table
    is generated (the tables of files and what they hold may stay)."""
    typed = []
    results = [p for p in gen.PAGES if p.name == "README.md" or p.parent.name == "results" or "benchmarks" in p.parts]
    for page in results:
        text = gen.BLOCK.sub("", page.read_text())
        typed += [f"{page.relative_to(ROOT)}: {line[:80]}" for line in text.splitlines()
                  if line.startswith("|") and re.search(r"\d\.\d", line)]
    assert typed == []
