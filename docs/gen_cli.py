"""The command-line reference (docs/reference/cli.md), generated from the `jepa-agent` argparse parsers.

    python docs/gen_cli.py            # rewrite the generated section of docs/reference/cli.md
    python docs/gen_cli.py --check    # exit 1 if it differs from the parsers

The section between ``<!-- cli:begin -->`` and ``<!-- cli:end -->`` holds one table per
subcommand: every argument with its metavar, default and help, read from the parser objects
(not from ``--help``, whose layout changes between Python versions).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "reference" / "cli.md"
BEGIN, END = "<!-- cli:begin -->", "<!-- cli:end -->"


def _cli():
    try:  # the application layer's home once the agent package is split (issue 31)
        from jepa_agent.agent.app import cli
    except ImportError:
        from jepa_agent.agent import cli
    return cli


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _usage(action: argparse.Action) -> str:
    if not action.option_strings:
        metavar = action.metavar or action.dest
        return f"`{metavar}`" + (" (optional)" if action.nargs == "?" else "")
    names = ", ".join(action.option_strings)
    if action.nargs == 0:
        return f"`{names}`"
    metavar = action.metavar or (
        "{" + ",".join(map(str, action.choices)) + "}" if action.choices else action.dest.upper()
    )
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    if action.nargs in ("+", "*"):
        metavar = f"{metavar} ..."
    return f"`{names} {metavar}`"


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, argparse.SUPPRESS) or action.required:
        return ""
    if isinstance(action.default, (list, tuple)):
        return "`" + " ".join(map(str, action.default)) + "`" if action.default else ""
    return f"`{action.default}`"


def reference() -> str:
    """The generated Markdown: each subcommand's description and a table of its arguments."""
    cli = _cli()
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = []
    for name, (summary, _) in cli.COMMANDS.items():
        command = sub.choices[name]
        out += [f"### `jepa-agent {name}`", "", _cell(command.description or summary), ""]
        out += ["| argument | default | what it does |", "|---|---|---|"]
        for action in command._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            out.append(f"| {_usage(action)} | {_default(action)} | {_cell(action.help or '')} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    if not rest:
        raise ValueError(f"{PAGE} has no generated section ({BEGIN} ... {END})")
    return f"{head}{BEGIN}\n{reference()}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page differs from the parsers")
    args = parser.parse_args(argv)
    text = PAGE.read_text()
    new = render(text)
    if new == text:
        return 0
    if args.check:
        print(f"{PAGE.relative_to(ROOT)} is stale: run `python docs/gen_cli.py`", file=sys.stderr)
        return 1
    PAGE.write_text(new)
    print(f"rewrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
