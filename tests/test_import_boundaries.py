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


# The layers inside agent/, lowest first: a module imports only from its own layer or below
# (DESIGN.md: the loops sit above the Agent, learning and the checkpoint format below it, the
# application layer on top). Imports under ``if TYPE_CHECKING:`` are annotations, not imports.
AGENT_LAYERS = [
    {"spaces", "vector", "coverage", "provenance", "distributed"},
    {"collection", "environments", "checkpoint"},
    {"resume", "learning", "pretrained"},
    {"agent"},
    {"evaluation", "loops"},
    {"app"},
]
FORWARDERS = {("agent/agent.py", "loops")}
"""DESIGN.md: "thin methods on the Agent may forward to" the loops (``agent.train`` /
``collect`` / ``evaluate`` / ``exploring_randomly``), importing them when called."""


def _layer(module: str) -> int | None:
    """The layer of ``jepa_agent.agent.NAME[...]`` (None for any other module)."""
    parts = module.split(".")
    if parts[:2] != ["jepa_agent", "agent"] or len(parts) < 3:
        return None
    return next((i for i, names in enumerate(AGENT_LAYERS) if parts[2] in names), None)


def agent_imports(tree: ast.Module) -> list[tuple[str, bool]]:
    """``(module, inside a function)`` of every import of ``jepa_agent.agent.*`` outside
    ``if TYPE_CHECKING:`` blocks (``from jepa_agent.agent import x`` counts as ``...agent.x``)."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and dotted(node.test) == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child, in_function)
            return
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "jepa_agent.agent":
                found.extend((f"jepa_agent.agent.{a.name}", in_function) for a in node.names)
            else:
                found.append((node.module, in_function))
        elif isinstance(node, ast.Import):
            found.extend((a.name, in_function) for a in node.names)
        inside = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


AGENT_FILES = [path for path in sources("agent") if path.name != "__init__.py" or path.parent.name == "app"]


def test_every_agent_module_has_a_layer():
    for path in AGENT_FILES:
        rel = path.relative_to(ROOT / "agent")
        name = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        assert _layer(f"jepa_agent.agent.{name}") is not None, f"agent/{rel}: add it to AGENT_LAYERS"


def test_the_layer_check_sees_an_upward_import():
    tree = ast.parse("from jepa_agent.agent.loops import evaluate\nfrom jepa_agent.agent import app\n"
                     "if TYPE_CHECKING:\n    from jepa_agent.agent.agent import Agent\n")
    assert [m for m, _ in agent_imports(tree)] == ["jepa_agent.agent.loops", "jepa_agent.agent.app"]


@pytest.mark.parametrize("path", AGENT_FILES, ids=[str(p.relative_to(ROOT)) for p in AGENT_FILES])
def test_no_import_runs_upward_inside_agent(path):
    """Inside agent/, a module imports from its own layer or below (AGENT_LAYERS)."""
    rel = path.relative_to(ROOT).as_posix()
    parts = path.relative_to(ROOT / "agent").parts
    own = _layer(f"jepa_agent.agent.{parts[0] if len(parts) > 1 else path.stem}")
    upward = []
    for module, in_function in agent_imports(parse(path)):
        layer = _layer(module)
        if layer is None or own is None or layer <= own:
            continue
        if in_function and (rel, module.split(".")[2]) in FORWARDERS:
            continue
        upward.append(module)
    assert not upward, f"{rel} imports {upward} from a layer above its own"


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
