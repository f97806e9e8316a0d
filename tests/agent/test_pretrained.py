"""save_pretrained / from_pretrained: a shareable model folder in the Hub's layout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.agent.checkpoint import CheckpointError
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import apply_overrides

from .test_checkpoint import actions_of
from .test_run_loop import TINY

REACH = "jepa_agent/Reach2D-v0"
ROOT = Path(__file__).resolve().parents[2]
SEEDS = (0, 1, 2)  # actions_of's


@pytest.fixture(scope="module")
def trained():
    config = apply_overrides(AgentConfig(), {**TINY, "task.env": REACH})
    agent = Agent.from_config(config, gym.make(REACH))
    agent.train([gym.make(REACH) for _ in range(2)], 160)
    return agent


def test_the_folder_has_the_hub_layout_and_a_card_from_its_files(trained, tmp_path):
    """config.json, model.safetensors, eval.json and README.md; the card's numbers are eval.json's."""
    result = {"success_rate": 0.75, "mean_final_distance": 0.0123, "mean_return": float("nan"), "episodes": 4}
    folder = trained.save_pretrained(tmp_path / "reach2d-tiny", eval_result=result)
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "eval.json", "model.safetensors"]
    config = json.loads((folder / "config.json").read_text())
    assert config["config"]["task"]["env"] == REACH and config["env_steps"] == trained.env_steps
    assert "jepa_agent" in config["provenance"]
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: jepa-agent\n")
    assert "value: 0.75" in card and "| success rate | 0.75 |" in card and "| mean final distance | 0.0123 |" in card
    assert "mean return" not in card  # NaN is not a measurement
    assert 'Agent.from_pretrained("reach2d-tiny")' in card
    assert json.loads((folder / "eval.json").read_text())["episodes"] == 4
    trained.save_pretrained(folder)  # saved again unmeasured: no stale eval.json
    assert not (folder / "eval.json").exists() and "Not measured" in (folder / "README.md").read_text()


def test_a_fresh_process_acts_the_same(trained, tmp_path):
    """from_pretrained in a new process gives the same actions for the same observations."""
    folder = trained.save_pretrained(tmp_path / "model")
    expected = actions_of(trained)
    script = textwrap.dedent(f"""
        import json, sys
        import gymnasium as gym, numpy as np
        import jepa_agent.envs
        from jepa_agent import Agent
        agent = Agent.from_pretrained(sys.argv[1])
        env, out = gym.make("{REACH}"), []
        for seed in {SEEDS!r}:
            obs, info = env.reset(seed=seed)
            agent.generator.manual_seed(0)
            agent.reset(goal=info["goal_observation"])
            out.append(agent.act(obs).tolist())
        print(json.dumps(out))
    """)
    done = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MUJOCO_GL": "egl"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    got = np.array(json.loads(done.stdout.strip().splitlines()[-1]), dtype=expected.dtype)
    np.testing.assert_array_equal(got, expected)
    assert not np.allclose(expected, expected[0])  # the goals differ, and so do the actions


def test_a_hub_id_is_downloaded_only_when_asked(trained, tmp_path, monkeypatch):
    """A local folder is read as it is; an 'owner/name' that is no folder goes to
    huggingface_hub.snapshot_download for the four files, and nothing else is fetched."""
    hub = pytest.importorskip("huggingface_hub")
    folder = trained.save_pretrained(tmp_path / "model")
    calls = []

    def fake_download(repo_id, revision=None, allow_patterns=None):
        calls.append((repo_id, revision, tuple(allow_patterns)))
        return str(folder)

    monkeypatch.setattr(hub, "snapshot_download", fake_download)
    Agent.from_pretrained(folder)
    assert calls == []
    again = Agent.from_pretrained("someone/reach2d-tiny", revision="v1")
    assert calls == [("someone/reach2d-tiny", "v1", ("config.json", "model.safetensors", "eval.json", "README.md"))]
    np.testing.assert_array_equal(actions_of(again), actions_of(trained))


def test_bad_folders_are_one_line(trained, tmp_path):
    """A missing folder, a folder without weights, a config of another format: one line each."""
    with pytest.raises(FileNotFoundError, match="no model folder at .*nowhere"):
        Agent.from_pretrained(tmp_path / "nowhere" / "deeper" / "still")
    folder = trained.save_pretrained(tmp_path / "model")
    (folder / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="it has no model.safetensors"):
        Agent.from_pretrained(folder)
    folder = trained.save_pretrained(tmp_path / "model2")
    (folder / "config.json").write_text(json.dumps({"format": "something/9"}))
    with pytest.raises(CheckpointError, match="format 'something/9'") as err:
        Agent.from_pretrained(folder)
    assert "\n" not in str(err.value)
