"""README.md opens with the install and test commands, and CI runs exactly those."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALL = 'pip install -e ".[dev]"'
TEST = 'python -m pytest -q -m "not slow" -n auto'


def test_readme_opens_with_the_two_commands():
    """The first code block of README.md is the install+main-job command and the test command."""
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash", 1)[1].split("```", 1)[0].strip().splitlines()
    assert block == [f"{INSTALL} && python examples/reach.py", TEST]


def test_ci_runs_the_readme_commands_verbatim():
    """.ci/run installs torch==2.13.0 first, then runs README's install and test commands."""
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    torch_at = lines.index("pip install torch==2.13.0")
    assert lines.index(INSTALL) > torch_at
    assert lines.index(TEST) > lines.index(INSTALL)
