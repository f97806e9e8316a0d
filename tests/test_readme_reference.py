"""The generated and copied parts of README.md and the docs stay true: the config reference, the plug-in snippet, the tables."""

from __future__ import annotations

from pathlib import Path

from jepa_agent.agent.app.cli import COMMANDS
from jepa_agent.agent.app.reference import BEGIN, END, config_reference, update_readme

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


def test_readme_is_two_screens():
    """README.md stays short (at most 12 kB): the long content lives in the docs site."""
    size = len(README.encode())
    assert size <= 12_000, f"README.md is {size} bytes; move content into docs/ (limit 12,000)"


def test_custom_modules_guide_shows_the_example_itself():
    """The guide's planner and encoder are snippets of examples/custom_module.py (which a test runs), not copies."""
    guide = (ROOT / "docs" / "guides" / "custom-modules.md").read_text()
    example = (ROOT / "examples" / "custom_module.py").read_text()
    for section in ("planner", "encoder"):
        assert f'--8<-- "examples/custom_module.py:{section}"' in guide, section
        assert f"# --8<-- [start:{section}]" in example and f"# --8<-- [end:{section}]" in example, section
    assert "class Annealed(SamplingPlanner)" not in guide


def test_readme_folder_table_covers_every_package():
    """The folder table maps every package folder (and configs/) to a module of the position paper."""
    for folder in ("agent", "perception", "world_model", "cost", "actor", "memory", "configurator", "envs", "configs"):
        assert f"| `{folder}/` |" in README, folder


def test_readme_links_into_the_docs_resolve():
    """Every relative link of README.md names a file that exists (they work on GitHub and in the site)."""
    import re

    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", README) + re.findall(r'src="([^"]+)"', README)
    assert links, "README.md links nowhere"
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, missing


def test_command_line_page_names_every_subcommand():
    """docs/reference/cli.md documents every `jepa-agent` subcommand, and its generated part is current."""
    import importlib.util

    page = (ROOT / "docs" / "reference" / "cli.md").read_text()
    for command in COMMANDS:
        assert f"### `jepa-agent {command}`" in page, command
    spec = importlib.util.spec_from_file_location("gen_cli", ROOT / "docs" / "gen_cli.py")
    gen_cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_cli)
    assert gen_cli.render(page) == page, "docs/reference/cli.md is stale: run `python docs/gen_cli.py`"
