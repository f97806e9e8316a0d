"""Static checks of the library source: DESIGN.md's import boundaries and STYLE.md's habits."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agent", "perception", "world_model", "cost", "actor", "memory", "configurator", "envs")

# Which other project packages each package may import (DESIGN.md, "Boundaries").
ALLOWED = {
    "perception": set(),
    "memory": set(),
    "world_model": {"perception"},
    "cost": set(),
    "actor": {"world_model", "cost"},
    "configurator": {"perception", "world_model", "cost", "actor", "memory"},
    "agent": set(PACKAGES),
    "envs": set(),
}
ENVS_THIRD_PARTY = {"gymnasium", "mujoco", "numpy"}
SEEDING_CALLS = {
    "torch.manual_seed", "torch.cuda.manual_seed", "torch.cuda.manual_seed_all", "torch.seed",
    "np.random.seed", "numpy.random.seed", "random.seed",
}


def sources(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no sources found for package {package}"
    return files


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _root(module: str) -> str:
    """The package an import names: ``jepa_agent.actor.cem`` -> ``actor``; ``torch.nn`` -> ``torch``."""
    parts = module.split(".")
    return parts[1] if parts[0] == "jepa_agent" and len(parts) > 1 else parts[0]


def imported_roots(tree: ast.Module) -> set[str]:
    """The packages of every absolute import in a module (relative ones stay in-package);
    ``from jepa_agent import envs`` counts as ``envs``."""
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {_root(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "jepa_agent":
                roots |= {alias.name for alias in node.names}
            else:
                roots.add(_root(node.module))
    return roots


def dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


EDGES = {"agent/app/cli.py"}  # command-line entry points: process-wide settings are theirs to make
ALL_FILES = [(pkg, path) for pkg in PACKAGES for path in sources(pkg)]
IDS = [str(path.relative_to(ROOT)) for _, path in ALL_FILES]


def test_helpers_detect_violations():
    """The scanners themselves flag a forbidden import, print, seeding and os.environ write."""
    tree = ast.parse(
        "import jepa_agent.agent.x\nfrom jepa_agent.envs import a\nfrom jepa_agent import cost\nimport os\n"
        "print(1)\ntorch.manual_seed(0)\n"
        "os.environ['X'] = '1'\nos.environ.setdefault('Y', '2')\n"
    )
    assert {"agent", "envs", "cost"} <= imported_roots(tree)
    assert len(violations(tree)) == 4


@pytest.mark.parametrize(("package", "path"), ALL_FILES, ids=IDS)
def test_imports_follow_design_boundaries(package, path):
    """Each package imports only the project packages DESIGN.md allows it."""
    roots = imported_roots(parse(path))
    project = roots & set(PACKAGES) - {package}
    forbidden = project - ALLOWED[package]
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"
    if package == "envs":
        third_party = roots - set(sys.stdlib_module_names) - {"envs", "__future__", "jepa_agent"}
        assert third_party <= ENVS_THIRD_PARTY, f"{path.relative_to(ROOT)} imports {sorted(third_party)}"


def violations(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if name == "print":
                found.append(f"line {node.lineno}: print(")
            elif name in SEEDING_CALLS:
                found.append(f"line {node.lineno}: {name}(")
            elif name == "os.environ.setdefault":
                found.append(f"line {node.lineno}: os.environ.setdefault(")
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for t in targets:
            if isinstance(t, ast.Subscript) and dotted(t.value) in ("os.environ", "environ"):
                found.append(f"line {node.lineno}: os.environ[...] write")
    return found


@pytest.mark.parametrize(("package", "path"), ALL_FILES, ids=IDS)
def test_no_print_seeding_environ_or_cuda0(package, path):
    """Library code never prints, seeds global RNGs, edits os.environ or hard-codes cuda:0."""
    bad = violations(parse(path))
    if path.relative_to(ROOT).as_posix() in EDGES:  # the CLI may choose MuJoCo's GL backend
        bad = [b for b in bad if "os.environ.setdefault" not in b]
    if "cuda:0" in path.read_text():
        bad.append("contains 'cuda:0'")
    assert not bad, f"{path.relative_to(ROOT)}: {bad}"
