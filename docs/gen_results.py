"""Every results table of the docs, the README and the results folders' READMEs, generated from
``benchmarks/results/**/*.json``.

    python docs/gen_results.py            # rewrite the tables in place
    python docs/gen_results.py --check    # exit 1, naming the tables, if a page differs

A table sits in a Markdown page between ``<!-- results:NAME -->`` and ``<!-- results:end -->``;
``NAME`` is a generator registered in ``docs/results_tables/`` (one module per area), which
reads its results files, builds the table and ends it with the files it read. Nothing between
the markers is typed by hand: ``tests/test_docs_results.py`` regenerates every table and
compares. Over seeds, tables show the interquartile mean with a 95% bootstrap interval
(``results_tables/base.py``).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # results_tables/ sits beside this script
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # the statistics: benchmarks/stats.py

from results_tables import TABLES, bootstrap_ci, find, iqm  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
         *sorted((ROOT / "benchmarks" / "results").glob("*/README.md"))]
BLOCK = re.compile(r"(<!-- results:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- results:end -->)", re.S)

__all__ = ["PAGES", "TABLES", "bootstrap_ci", "find", "iqm", "main", "render"]


def render(text: str) -> tuple[str, list[str]]:
    """``text`` with every marked table regenerated, and the names of the tables used."""
    names: list[str] = []

    def replace(m: re.Match[str]) -> str:
        name = m.group("name")
        if name == "end":
            return m.group(0)
        if name not in TABLES:
            raise KeyError(f"unknown results table {name!r}; known: {', '.join(sorted(TABLES))}")
        names.append(name)
        return f"{m.group(1)}{TABLES[name]()}{m.group(4)}"

    return BLOCK.sub(replace, text), names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if any table differs from its results files")
    args = parser.parse_args(argv)
    stale, used = [], set()
    for path in PAGES:
        text = path.read_text()
        new, names = render(text)
        used.update(names)
        if new != text:
            stale.append(f"{path.relative_to(ROOT)} ({', '.join(names)})")
            if not args.check:
                path.write_text(new)
    unused = sorted(set(TABLES) - used)
    if unused:
        print(f"tables no page shows: {', '.join(unused)}", file=sys.stderr)
    if stale:
        print(("stale: " if args.check else "rewrote: ") + "; ".join(stale), file=sys.stderr)
        return 1 if args.check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
