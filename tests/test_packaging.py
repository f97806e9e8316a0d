"""One import namespace: the wheel installs ``jepa_agent`` and nothing else at the top level,
with the shipped configs, and the library runs beside a user's own ``envs``, ``agent`` and
``memory`` packages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("agent", "perception", "world_model", "cost", "actor", "memory", "configurator", "envs")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from this checkout."""
    pytest.importorskip("setuptools", minversion="77", reason="building the wheel needs setuptools >= 77")
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy of the files git would commit: setuptools' build/ folder stays out of
    # the checkout, and nothing stale from an earlier build can slip into the wheel.
    source = tmp_path_factory.mktemp("source")
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = out.glob("jepa_agent-*.whl")
    return path


def test_the_wheel_installs_one_top_level_package(wheel):
    """Every file of the wheel is under jepa_agent/ (or its dist-info), and each folder of the
    repository is a subpackage there, with its __init__.py and py.typed."""
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    dist_info = {t for t in tops if t.endswith(".dist-info")}
    assert tops - dist_info == {"jepa_agent"}, sorted(tops)
    for folder in FOLDERS:
        assert f"jepa_agent/{folder}/__init__.py" in names, folder
        assert f"jepa_agent/{folder}/py.typed" in names, folder
    assert "jepa_agent/__init__.py" in names and "jepa_agent/agent/checkpoint.py" in names
    shipped = sorted(p.name for p in (ROOT / "configs").iterdir() if p.suffix in (".yaml", ".yml", ".json"))
    assert shipped and "reacher.yaml" in shipped
    assert sorted(n.removeprefix("jepa_agent/configs/") for n in names
                  if n.startswith("jepa_agent/configs/") and not n.endswith(".py")) == shipped
    entry_points = zipfile.ZipFile(wheel).read(f"{dist_info.pop()}/entry_points.txt").decode()
    assert "jepa-agent = jepa_agent.agent.app.cli:main" in entry_points


def shadowing_folder(tmp_path: Path) -> Path:
    """A user's project with its own envs/, agent/ and memory/ packages, each of which fails
    loudly if anything imports it."""
    for name in ("envs", "agent", "memory"):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "__init__.py").write_text(f"raise ImportError('the user\\'s own {name} package was imported')\n")
    return tmp_path


def test_the_installed_wheel_imports_beside_user_packages(wheel, tmp_path):
    """Installed from the wheel into a clean folder, jepa_agent imports, registers its envs,
    builds an agent from a folder whose own envs/agent/memory packages come first on the path,
    and reads a shipped config by name (with its base) from the installed package."""
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in site.iterdir() if not p.name.endswith(".dist-info") and p.name != "bin") == ["jepa_agent"]
    user = shadowing_folder(tmp_path / "user")
    code = ("import sys, gymnasium as gym, jepa_agent, jepa_agent.envs\n"
            "from jepa_agent import Agent\n"
            "from jepa_agent.configurator.loading import apply_overrides\n"
            "from jepa_agent.configurator import AgentConfig\n"
            "assert jepa_agent.__file__.startswith(sys.argv[1]), jepa_agent.__file__\n"
            "env = gym.make('jepa_agent/Reach2D-v0')\n"
            "agent = Agent.from_config(apply_overrides(AgentConfig(), {'encoder.hidden_dim': 16}), env)\n"
            "obs, info = env.reset(seed=0)\n"
            "agent.reset(goal=info['goal_observation'])\n"
            "print(agent.act(obs).shape, jepa_agent.__version__)\n"
            "from jepa_agent.configurator.loading import config_path, load_config\n"
            "assert str(config_path('reacher')).startswith(sys.argv[1]), config_path('reacher')\n"
            "assert AgentConfig.load('reacher').task.env == 'Reacher-v5'\n"
            "assert load_config('reach3d_far').task.env == 'jepa_agent/Reach3D-v0'  # base: reach3d, base: reach2d\n"
            # `python -m jepa_agent show reacher` and `... configs`, in this interpreter (no two more starts)
            "from jepa_agent.__main__ import main\n"
            "print('--- show'); assert main(['show', 'reacher']) == 0\n"
            "print('--- configs'); assert main(['configs']) == 0\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(user), str(site)]), "MUJOCO_GL": "egl"}
    done = subprocess.run([sys.executable, "-c", code, str(site)], cwd=user, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    import jepa_agent

    acted, rest = done.stdout.split("--- show\n")
    shown, listed = rest.split("--- configs\n")
    assert acted.split() == ["(2,)", jepa_agent.__version__], done.stdout
    assert "env: Reacher-v5" in shown, done.stdout
    assert "reacher" in listed.split(), done.stdout


def test_the_cli_runs_beside_user_packages(tmp_path):
    """`python -m jepa_agent train` runs from a folder with its own envs/, agent/ and memory/
    packages on the path, and writes its checkpoint (examples/reach.py runs from such a folder
    in tests/examples/test_reach_example.py)."""
    user = shadowing_folder(tmp_path / "user")
    env = {**os.environ, "PYTHONPATH": str(user), "MUJOCO_GL": "egl"}
    tiny = ["--threads", "1", "--num-envs", "2", "--encoder.hidden_dim=32", "--world_model.hidden_dim=32",
            "--critic.hidden_dim=32", "--policy.hidden_dim=32", "--training.batch_size=16",
            "--training.random_steps=100", "--training.pretrain_updates=5", "--actor.samples=16",
            "--actor.iterations=1", "--actor.horizon=5"]
    train = subprocess.run(
        [sys.executable, "-m", "jepa_agent", "train", "--env", "jepa_agent/Reach2D-v0", "--steps", "200",
         "--episodes", "1", "--video", "0", "--out", str(tmp_path / "cli"), *tiny],
        cwd=user, capture_output=True, text=True, env=env, timeout=600,
    )
    assert train.returncode == 0, train.stderr[-3000:]
    assert (tmp_path / "cli" / "checkpoint.safetensors").is_file()
