"""Every `jepa-agent` subcommand on a tiny budget, and its config errors."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import imageio.v2 as imageio
import pytest
import yaml

from jepa_agent.agent.app.cli import main
from jepa_agent.agent.app.metrics import MetricsLogger
from jepa_agent.agent.app.reference import config_reference
from jepa_agent.configurator import AgentConfig
from jepa_agent.memory import ReplayBuffer

ROOT = Path(__file__).resolve().parents[2]
REACH2D = str(ROOT / "configs" / "reach2d.yaml")
HAS_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None

# A tiny agent: small widths, 100 random steps, 5 pretraining updates, 16-sample planners.
TINY = [
    "--threads", "1", "--num-envs", "2",
    "--encoder.latent_dim=8", "--encoder.hidden_dim=32", "--world_model.hidden_dim=32",
    "--critic.hidden_dim=32", "--policy.hidden_dim=32", "--probe.hidden_dim=32",
    "--training.batch_size=16", "--training.random_steps=100", "--training.pretrain_updates=5",
    "--actor.samples=16", "--actor.iterations=1", "--actor.horizon=5",
    "--training.exploration.planner.samples=16", "--training.exploration.planner.iterations=1",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    log = "csv,tensorboard" if HAS_TENSORBOARD else "csv"
    rc = main(["train", "--config", REACH2D, "--out", str(out), "--steps", "200", "--episodes", "2",
               "--video", "1", "--log", log, *TINY])
    assert rc == 0
    return out


def test_train_writes_the_run_folder(run_dir):
    """`train` writes the resolved config, metrics, checkpoint, curves, eval.json and a video."""
    for name in ("config.yaml", "metrics.csv", "checkpoint.safetensors", "history.json", "learning_curve.png", "eval.json"):
        assert (run_dir / name).is_file(), sorted(p.name for p in run_dir.iterdir())
    config = AgentConfig.load(run_dir / "config.yaml")
    assert config.task.actor.horizon == 5 and config.task.planner.options["samples"] == 16
    result = json.loads((run_dir / "eval.json").read_text())
    assert result["env_steps"] == 200 and result["episodes"] == 2 and result["updates"] > 0
    assert {"success_rate", "random_success_rate", "act_ms_median", "embed_std", "embed_rank"} <= set(result)
    lines = (run_dir / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert {"step", "train/success", "train/steps_per_s", "update/pred_loss", "eval/success_rate"} <= set(header)
    assert len(lines) == 1 + 1 + 1  # header, one row per log_every (1000) steps or fewer, the evaluation
    (video,) = result["videos"]
    assert Path(video).suffix == ".mp4" and imageio.get_reader(video).count_frames() == 51  # 50 steps + the end
    if HAS_TENSORBOARD:
        assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))


def test_a_budget_shorter_than_one_episode_trains_and_reports(tmp_path, capsys):
    """No episode ends within --steps (2 envs x 20 steps, 50-step episodes): training stays
    random, and the run still evaluates and writes its folder (no collapse diagnostics)."""
    out = tmp_path / "short"
    assert main(["train", "--config", REACH2D, "--out", str(out), "--steps", "40", "--episodes", "1",
                 "--video", "0", *TINY]) == 0
    summary = json.loads((out / "eval.json").read_text())
    assert summary["env_steps"] == 40 and summary["updates"] == 0
    assert math.isnan(summary["embed_std"])


def test_eval_command_changes_the_planner(run_dir, tmp_path):
    """`eval` loads a checkpoint, plans with an overridden planner and writes eval.json."""
    rc = main(["eval", str(run_dir / "checkpoint.safetensors"), "--episodes", "1", "--out", str(tmp_path), "--threads", "1",
               "--actor.planner=mppi", "--actor.samples=16", "--video", "1"])
    assert rc == 0
    result = json.loads((tmp_path / "eval.json").read_text())
    assert result["planner"] == "mppi" and result["episodes"] == 1 and result["env_steps"] == 200
    assert Path(result["videos"][0]).is_file()


def test_eval_on_other_env_options(run_dir, tmp_path):
    """`eval` runs a checkpoint on other env options (torque motors) and reports return and the random baseline's return."""
    rc = main(["eval", str(run_dir / "checkpoint.safetensors"), "--episodes", "1", "--out", str(tmp_path), "--threads", "1",
               "--task.env_kwargs.control=torque"])
    assert rc == 0
    result = json.loads((tmp_path / "eval.json").read_text())
    assert {"mean_return", "random_mean_return", "success_rate_final", "success_rate_any"} <= set(result)


def test_eval_refuses_module_overrides(run_dir, capsys):
    """A checkpoint's modules are fixed: overriding the encoder in `eval` is a clear error."""
    assert main(["eval", str(run_dir / "checkpoint.safetensors"), "--encoder.latent_dim=4"]) == 2
    assert "only task keys" in capsys.readouterr().err


def test_collect_writes_a_replay_buffer(run_dir, tmp_path):
    """`collect` saves random or planner experience as a loadable replay buffer of the asked size."""
    random_path, plan_path = tmp_path / "random.npz", tmp_path / "plan.npz"
    assert main(["collect", "--config", REACH2D, "--steps", "100", "--out", str(random_path), *TINY]) == 0
    assert main(["collect", "--checkpoint", str(run_dir / "checkpoint.safetensors"), "--steps", "100", "--num-envs", "2",
                 "--threads", "1", "--out", str(plan_path)]) == 0
    for path in (random_path, plan_path):
        replay = ReplayBuffer.load(path)
        assert replay.num_steps == 100 and replay.num_episodes == 2
    assert ReplayBuffer.load(plan_path).sample(4, 3, rng=__import__("numpy").random.default_rng(0))["planner_mask"].all()


def test_show_prints_a_resolved_config(capsys):
    """`show CONFIG --key=value` prints every field, defaults included, with the override."""
    assert main(["show", REACH2D, "--actor.horizon=7"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    config = AgentConfig.model_validate(data)
    assert config.task.actor.horizon == 7 and set(data) == set(AgentConfig.model_fields)


def test_show_summarises_a_checkpoint(run_dir, capsys):
    """`show CHECKPOINT` prints env steps, updates, parameters per module and the config."""
    assert main(["show", str(run_dir / "checkpoint.safetensors")]) == 0
    out = capsys.readouterr().out
    assert "env_steps: 200" in out and "parameters:" in out and "total:" in out and "config:" in out
    info = yaml.safe_load(out.split("parameters:")[0])
    assert info["env"] == "jepa_agent/Reach2D-v0" and info["updates"] > 0


def test_show_schema_prints_the_reference(capsys):
    """`show --schema` prints the config reference generated from the pydantic models."""
    assert main(["show", "--schema"]) == 0
    assert capsys.readouterr().out == config_reference()


def test_bench_command_on_the_checkpoint(run_dir, tmp_path):
    """`bench` runs a planner on the trained checkpoint and writes results.json."""
    assert main(["bench", "--planners", "cem", "--models", str(run_dir / "checkpoint.safetensors"), "--budgets",
                 "samples=8,iterations=1,horizon=3", "--episodes", "1", "--threads", "1", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "results.json").read_text())[0]["episodes"] == 1


def test_bench_config_file_with_flag_overrides(tmp_path, capsys):
    """`bench --config` reads the grid from a file; flags replace its values; a typo names the closest key."""
    assert main(["bench", "--config", str(ROOT / "configs" / "bench_oracle.yaml"), "--planners", "cem",
                 "--envs", "jepa_agent/Reach2D-v0", "--budgets", "samples=8,iterations=1,horizon=3",
                 "--episodes", "1", "--threads", "1", "--out", str(tmp_path)]) == 0
    (row,) = json.loads((tmp_path / "results.json").read_text())
    assert (row["planner"], row["model"], row["episodes"]) == ("cem", "oracle", 1)
    bad = tmp_path / "bench.yaml"
    bad.write_text("planer: [cem]\n")
    assert main(["bench", "--config", str(bad)]) == 2
    assert "did you mean 'planners'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("override", "named", "suggested"),
    [
        ("--actor.horizn=3", "actor.horizn", "actor.horizon"),
        ("--actor.samles=3", "actor.samles", "actor.samples"),
        ("--trainig.lr=0.1", "trainig.lr", "training.lr"),
        ("--task.actor.horizn=3", "task.actor.horizn", "task.actor.horizon"),
        ("--world_model.kl_cof=1", "world_model.kl_cof", "world_model.kl_coef"),
    ],
)
def test_override_typo_names_the_key_and_the_closest(override, named, suggested, tmp_path, capsys):
    """A misspelled override fails before anything runs, naming it and the closest valid key."""
    out = tmp_path / "never"
    assert main(["train", "--config", REACH2D, "--out", str(out), override]) == 2
    err = capsys.readouterr().err
    assert f"'{named}'" in err and f"did you mean '{suggested}'" in err
    assert not out.exists()


def test_config_file_typo_names_the_key_and_the_closest(tmp_path, capsys):
    """A misspelled key in a YAML file, or in a module's options, names it and the closest one."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("task:\n  actr: {horizon: 3}\n")
    assert main(["show", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "'task.actr'" in err and "did you mean 'task.actor'" in err
    bad.write_text("encoder: {name: mlp, options: {latent_dm: 8}}\n")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert "'latent_dm'" in err and "did you mean 'latent_dim'" in err


def test_tensorboard_missing_names_the_extra(monkeypatch, tmp_path, capsys):
    """Asking for TensorBoard without the package fails with the extra to install."""
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import -> ImportError
    with pytest.raises(ImportError, match=r"jepa-agent\[log\]"):
        MetricsLogger(tmp_path, ["tensorboard"])
    out = tmp_path / "never"
    assert main(["train", "--out", str(out), "--log", "csv,tensorboard"]) == 2
    assert "jepa-agent[log]" in capsys.readouterr().err and not out.exists()
    with pytest.raises(ValueError, match="unknown log backend 'tensorbord'"):
        MetricsLogger(tmp_path, ["tensorbord"])


@pytest.mark.parametrize(
    "argv, named",
    [
        (["eval", "{tmp}/missing.pt"], "no checkpoint at"),
        (["eval", "{tmp}/corrupt.pt"], "could not read checkpoint"),
        (["train", "--env", "Reacher-v4x", "--out", "{tmp}/never", "--steps", "10"], "did you mean"),
        (["show", "{tmp}/corrupt.pt"], "could not read checkpoint"),
    ],
)
def test_library_errors_are_one_line_without_traceback(argv, named, tmp_path, capsys):
    (tmp_path / "corrupt.pt").write_bytes(b"\x07 not a checkpoint" * 10)
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main(argv) == 1
    stderr = capsys.readouterr().err
    err = [line for line in stderr.splitlines() if line.startswith("jepa-agent")]
    assert len(err) == 1 and named in err[0] and "--debug" in err[0]
    assert "Traceback" not in stderr
    assert not (tmp_path / "never").exists()  # a refused run leaves no folder
    with pytest.raises(Exception, match=named):  # --debug: the error itself, with its traceback
        main([*argv, "--debug"])


def test_ctrl_c_during_training_saves_the_agent_and_says_where(tmp_path, monkeypatch, capsys):
    from jepa_agent.agent.agent import Agent

    real_train, calls = Agent.train, []

    def train_then_interrupt(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the second chunk of log_every steps: Ctrl-C
            raise KeyboardInterrupt
        return real_train(self, *args, **kwargs)

    monkeypatch.setattr(Agent, "train", train_then_interrupt)
    out = tmp_path / "run"
    rc = main(["train", "--config", REACH2D, "--out", str(out), "--steps", "400", "--episodes", "1",
               "--video", "0", "--log-every", "100", *TINY])
    assert rc == 130
    err = capsys.readouterr().err
    assert f"saved at {out / 'checkpoint.safetensors'}" in err and "interrupted at 100 env steps" in err
    agent = Agent.load(out / "checkpoint.safetensors")
    assert agent.env_steps == 100
