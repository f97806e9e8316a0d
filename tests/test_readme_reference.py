"""The generated and copied parts of README.md and the docs stay true: the config reference, the plug-in snippet, the tables."""

from __future__ import annotations

from pathlib import Path

from jepa_agent.agent.cli import COMMANDS
from jepa_agent.agent.reference import BEGIN, END, config_reference, update_readme

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CONFIG_PAGE = ROOT / "docs" / "reference" / "config.md"


def test_docs_config_reference_is_generated():
    """docs/reference/config.md's reference equals `jepa-agent show --schema` (regenerate it when a config changes)."""
    section = CONFIG_PAGE.read_text().split(BEGIN, 1)[1].split(END, 1)[0]
    assert section.strip() == config_reference().strip(), (
        "docs/reference/config.md is stale: run `jepa-agent show --schema --readme docs/reference/config.md`"
    )


def test_update_readme_rewrites_only_its_section(tmp_path):
    """update_readme replaces the text between the markers and leaves the rest alone."""
    path = tmp_path / "README.md"
    path.write_text(f"# title\n\n{BEGIN}\nstale\n{END}\n\nafter\n")
    assert update_readme(path) is True
    text = path.read_text()
    assert text.startswith("# title\n\n") and text.endswith(f"{END}\n\nafter\n") and "stale" not in text
    assert config_reference() in text and update_readme(path) is False


def test_plug_in_snippet_is_short_and_is_the_example():
    """The README's "Plug in your own planner" code is under 20 lines and runs in examples/custom_module.py."""
    section = README.split("## Plug in your own planner", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0].strip("\n").splitlines()
    assert len(code) < 20
    example = (ROOT / "examples" / "custom_module.py").read_text()
    body = "\n".join(code[code.index(next(ln for ln in code if ln.startswith("class "))):])
    assert body in example


def test_readme_folder_table_covers_every_package():
    """The folder table maps every package folder (and configs/) to a module of the position paper."""
    for folder in ("agent", "perception", "world_model", "cost", "actor", "memory", "configurator", "envs", "configs"):
        assert f"| `{folder}/` |" in README, folder


def test_readme_command_line_section_names_every_subcommand():
    """The command-line section documents every `jepa-agent` subcommand."""
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    for command in COMMANDS:
        assert f"`{command}" in section, command
