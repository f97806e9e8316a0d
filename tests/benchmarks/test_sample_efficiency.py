"""The sample-efficiency benchmark: its shared evaluation loop, its arguments and tiny end-to-end runs."""

import csv
import json
import sys

import gymnasium as gym
import numpy as np
import pytest

from jepa_agent.agent.loops import PolicyController

REACH = "jepa_agent/Reach2D-v0"


class Steps(gym.Env):
    """Five steps, reward 1 - a; reports info["success"] (a == 0 at the last step) if asked."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def __init__(self, report_success: bool = True) -> None:
        self.report_success, self.seeds, self.t = report_success, [], 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.seeds.append(seed)
        self.t = 0
        return np.zeros(1, np.float32), {"goal_observation": {"observation": np.ones(1, np.float32)}}

    def step(self, action):
        self.t += 1
        info = {"success": bool(action[0] == 0.0)} if self.report_success else {}
        return np.full(1, self.t, np.float32), 1.0 - float(action[0]), False, self.t == 5, info


def zero(obs):
    return np.zeros((len(obs), 1), np.float32)  # (B, 1)


def test_evaluate_known_policy_return_success_and_seeds(sample_efficiency):
    """A constant-zero policy earns 5 per episode and succeeds; episode i resets with seed + i and on_reset runs before each."""
    env, resets = Steps(), []
    returns, success = sample_efficiency.evaluate(PolicyController(zero, on_reset=resets.append), env, 3, 10)
    np.testing.assert_array_equal(returns, [5.0, 5.0, 5.0])
    np.testing.assert_array_equal(success, [1.0, 1.0, 1.0])
    assert [s for s in env.seeds if s is not None] == [10, 11, 12] and len(resets) == 3
    ones = PolicyController(lambda o: np.ones((len(o), 1), np.float32))
    returns, success = sample_efficiency.evaluate(ones, env, 2, 0)
    np.testing.assert_array_equal(returns, [0.0, 0.0])
    np.testing.assert_array_equal(success, [0.0, 0.0])


def test_evaluate_success_is_none_when_not_reported(sample_efficiency):
    """An env whose info has neither is_success nor success yields success None, not 0."""
    returns, success = sample_efficiency.evaluate(PolicyController(zero), Steps(report_success=False), 2, 0)
    assert success is None and returns.tolist() == [5.0, 5.0]


def test_evaluate_on_reacher_is_repeatable(sample_efficiency):
    """Same policy, same eval seeds: identical returns (the seeds fix the episodes); Reacher reports no success."""
    env = sample_efficiency.make_env("Reacher-v5")
    still = PolicyController(lambda o: np.zeros((len(o), 2), np.float32))
    a, s = sample_efficiency.evaluate(still, env, 2, 1_000_000)
    b, _ = sample_efficiency.evaluate(still, env, 2, 1_000_000)
    env.close()
    assert s is None and np.all(a < 0) and a.tolist() == b.tolist() and a[0] != a[1]


def test_our_agent_is_evaluated_with_each_episodes_goal(sample_efficiency):
    """Our agent goes through the same loop: the goal of each episode is the env's (the same
    records as Agent.evaluate on the same seeds), and SAC's controller wraps predict."""
    from jepa_agent.agent import Agent
    from jepa_agent.configurator import AgentConfig

    env = sample_efficiency.make_env(REACH)
    agent = Agent.from_config(AgentConfig().with_overrides({"device": "cpu", "actor.samples": 16, "actor.iterations": 1}), env)
    agent.generator.manual_seed(0)
    returns, success = sample_efficiency.evaluate(agent, env, 2, 5)
    agent.generator.manual_seed(0)
    records = agent.evaluate(env, 2, seed=5)["records"]
    assert returns.tolist() == [r["return"] for r in records] and success.tolist() == [r["success_final"] for r in records]

    class Model:
        def predict(self, obs, deterministic):
            assert deterministic
            return np.zeros((len(obs["observation"]), 2), np.float32), None

    r, _ = sample_efficiency.evaluate(sample_efficiency.sac_controller(Model()), env, 2, 5)
    assert r.shape == (2,) and np.all(r <= 0)
    env.close()


def test_eval_points_end_at_steps(sample_efficiency):
    """Evaluations at K, 2K, ... and at N when K does not divide it."""
    assert sample_efficiency.eval_points(200, 100) == [100, 200]
    assert sample_efficiency.eval_points(250, 100) == [100, 200, 250]
    assert sample_efficiency.eval_points(100, 100) == [100]


def test_goal_env_helper(sample_efficiency):
    """A dict observation with achieved and desired goals and a compute_reward is a goal env (HER applies)."""
    reach, reacher = sample_efficiency.make_env(REACH), sample_efficiency.make_env("Reacher-v5")
    assert sample_efficiency.is_goal_env(reach) and not sample_efficiency.is_goal_env(reacher)
    reach.close(), reacher.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--methods": "ours,ppo"}, "unknown method 'ppo'; known: ours, sac"),
        ({"--methods": ","}, "--methods needs at least one of ours, sac"),
        ({"--methods": "ours,ours"}, "--methods has duplicates"),
        ({"--eval-every": "300"}, "--eval-every must be <= --steps=200, got 300"),
        ({"--eval-every": "0"}, "--eval-every must be positive"),
        ({"--steps": "-5"}, "--steps must be positive"),
        ({"--seeds": "0,x"}, "--seeds must be comma-separated integers"),
        ({"--seeds": "1,1"}, "--seeds has duplicates"),
        ({"--eval-episodes": "0"}, "--eval-episodes must be positive"),
        ({"--num-envs": "0"}, "--num-envs must be positive"),
        ({"--env": "NoSuchEnv-v0"}, "unknown env 'NoSuchEnv-v0'"),
        ({"--config": "missing.yaml"}, "no config file at missing.yaml"),
        ({"--set": "cost.probe_wieght=2"}, "probe_wieght"),
    ],
)
def test_bad_arguments_exit_with_the_reason(sample_efficiency, tmp_path, capsys, change, message):
    """Each bad argument stops before training, with argparse's exit code 2 and a message naming it."""
    args = {"--env": REACH, "--steps": "200", "--eval-every": "100", "--methods": "ours", "--out": str(tmp_path)}
    args.update(change)
    with pytest.raises(SystemExit) as exc:
        sample_efficiency.parse_args([tok for kv in args.items() for tok in kv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_set_overrides_our_config(sample_efficiency, tmp_path):
    """--set items change our agent's config on top of --config and are recorded."""
    opts = sample_efficiency.parse_args(["--env", REACH, "--steps", "200", "--eval-every", "100", "--methods", "ours",
                                         "--out", str(tmp_path), "--set", "cost.probe_weight=2.5",
                                         "--set", "training.batch_size=32"])
    assert opts.config.task.cost.probe_weight == 2.5 and opts.config.training.batch_size == 32
    assert opts.overrides == ("cost.probe_weight=2.5", "training.batch_size=32")


def test_missing_gymnasium_robotics_says_how_to_install(sample_efficiency, monkeypatch):
    """An id Gymnasium does not know, without gymnasium-robotics installed, fails naming the maze extra."""
    monkeypatch.setitem(sys.modules, "gymnasium_robotics", None)  # its import fails
    with pytest.raises(ValueError, match=r"gymnasium-robotics .* is not installed: pip install -e '\.\[maze\]'"):
        sample_efficiency.make_env("NoSuchMaze-v0")


def test_her_learning_starts_cover_an_episode(sample_efficiency, tmp_path, capsys):
    """A HER goal env keeps SB3's 100 when an episode is shorter, and refuses a learning_starts below the episode length."""
    pytest.importorskip("stable_baselines3")
    base = ["--env", REACH, "--steps", "200", "--eval-every", "100", "--methods", "sac", "--out", str(tmp_path),
            "--sac-recipe", "sb3"]
    opts = sample_efficiency.parse_args(base)
    assert opts.sac_her and opts.sac_learning_starts == 100 and sample_efficiency.sac_kwargs(opts)["replay_buffer_kwargs"] == {
        "n_sampled_goal": 4, "goal_selection_strategy": "future"}
    with pytest.raises(SystemExit):
        sample_efficiency.parse_args([*base, "--sac-learning-starts", "10"])
    assert "must be >= the episode length 50 with HER" in capsys.readouterr().err


def check_outputs(out, records, methods, seeds, steps):
    assert json.loads((out / "results.json").read_text()) == records
    keys = ("method", "env", "seed", "env_steps", "mean_return", "std_return", "success_rate", "wall_s")
    assert all(tuple(r) == keys for r in records)
    assert {r["method"] for r in records} == set(methods) and {r["env"] for r in records} == {REACH}
    for method in methods:
        for seed in seeds:
            rows = [r for r in records if (r["method"], r["seed"]) == (method, seed)]
            assert [r["env_steps"] for r in rows] == steps
            assert rows[0]["wall_s"] < rows[1]["wall_s"]
            assert all(0.0 <= r["success_rate"] <= 1.0 and r["std_return"] >= 0 for r in rows)
    with (out / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(records) and tuple(rows[0]) == keys
    assert (out / "learning_curves.png").stat().st_size > 10_000
    assert json.loads((out / "args.json").read_text())["eval_points"] == steps


def test_sac_end_to_end_on_reach2d(sample_efficiency, tmp_path):
    """SAC (HER on the dict goal env), 2 seeds x 200 steps, evaluated at 100 and 200: records, CSV and plot."""
    pytest.importorskip("stable_baselines3")
    out = tmp_path / "se"
    records = sample_efficiency.main([
        "--env", REACH, "--steps", "200", "--seeds", "0,1", "--eval-every", "100", "--eval-episodes", "2",
        "--methods", "sac", "--out", str(out),
    ])
    check_outputs(out, records, ["sac"], [0, 1], [100, 200])


def test_ours_end_to_end_on_reach2d(sample_efficiency, tmp_path):
    """Our agent (tiny budget, 2 envs of 50-step episodes) evaluated at 100 and 200 env steps."""
    config = tmp_path / "tiny.yaml"
    config.write_text("task:\n  planner: {name: cem, options: {samples: 16, iterations: 1}}\n  actor: {horizon: 5}\n"
                      "encoder: {name: mlp, options: {hidden_dim: 32}}\nworld_model: {name: jepa, options: {hidden_dim: 32}}\n"
                      "training:\n  random_steps: 100\n  pretrain_updates: 5\n  batch_size: 16\n"
                      "  exploration: {planner: {name: cem, options: {samples: 16, iterations: 1}}}\n")
    out = tmp_path / "se"
    records = sample_efficiency.main([
        "--env", REACH, "--steps", "200", "--seeds", "0", "--eval-every", "100", "--eval-episodes", "2",
        "--methods", "ours", "--num-envs", "2", "--config", str(config), "--out", str(out),
    ])
    check_outputs(out, records, ["ours"], [0], [100, 200])


def test_writers_keep_null_success(sample_efficiency, tmp_path):
    """Records without success write null to JSON, an empty CSV cell, and a one-panel plot."""
    records = [
        {"method": "sac", "env": "Reacher-v5", "seed": s, "env_steps": n, "mean_return": -n / 100 - s,
         "std_return": 0.5, "success_rate": None, "wall_s": n / 10}
        for s in (0, 1) for n in (100, 200)
    ]
    sample_efficiency.write_results(records, tmp_path)
    sample_efficiency.plot_curves(records, tmp_path / "curves.png", "Reacher-v5")
    assert json.loads((tmp_path / "results.json").read_text())[0]["success_rate"] is None
    with (tmp_path / "results.csv").open() as f:
        assert next(csv.DictReader(f))["success_rate"] == ""
    assert (tmp_path / "curves.png").stat().st_size > 5_000


def test_merge_combines_runs_made_as_separate_processes(sample_efficiency, tmp_path):
    """--merge joins the results.json of several runs into one folder (json, csv, png), sorted by method and seed."""
    def record(method, seed, steps, ret):
        return {"method": method, "env": "Reacher-v5", "seed": seed, "env_steps": steps, "mean_return": ret,
                "std_return": 1.0, "success_rate": None, "wall_s": 1.0}

    for name, recs in (("a", [record("sac", 0, 10, -5.0)]), ("b", [record("ours", 1, 10, -4.0), record("ours", 0, 10, -6.0)])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(recs))
    out = tmp_path / "all"
    merged = sample_efficiency.main(["--merge", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)])
    assert [(r["method"], r["seed"]) for r in merged] == [("ours", 0), ("ours", 1), ("sac", 0)]
    assert json.loads((out / "results.json").read_text()) == merged
    assert (out / "results.csv").is_file() and (out / "learning_curves.png").is_file()
    with pytest.raises(SystemExit, match="no results.json"):
        sample_efficiency.main(["--merge", str(tmp_path / "missing"), "--out", str(out)])


def test_sac_recipes(sample_efficiency, tmp_path):
    """The default SAC is the published MuJoCo recipe (10k random steps first, 256 x 256, batch 256,
    lr 3e-4); --sac-recipe sb3 leaves SB3's defaults, learning from step 100; the flag overrides both."""
    base = ["--env", "Hopper-v5", "--steps", "200", "--eval-every", "100", "--methods", "ours", "--out", str(tmp_path)]
    published = sample_efficiency.sac_kwargs(sample_efficiency.parse_args(base))
    assert published["learning_starts"] == 10_000 and published["batch_size"] == 256
    assert published["learning_rate"] == 3e-4 and published["policy_kwargs"] == {"net_arch": [256, 256]}
    assert sample_efficiency.sac_kwargs(sample_efficiency.parse_args([*base, "--sac-recipe", "sb3"])) == {"learning_starts": 100}
    opts = sample_efficiency.parse_args([*base, "--sac-learning-starts", "5000"])
    assert sample_efficiency.sac_kwargs(opts)["learning_starts"] == 5000 and opts.sac_recipe == "published"


def test_suite_gives_each_env_its_budget_and_folder(sample_efficiency, tmp_path):
    """--suite mujoco: every env at its budget, evaluated every tenth of it, into --out/<env>;
    --envs picks a subset and --steps/--eval-every override the budget (a short run)."""
    out = tmp_path / "suite"
    every = sample_efficiency.parse_args(["--suite", "mujoco", "--methods", "ours", "--out", str(out)])
    assert [(o.env, o.steps, o.eval_every) for o in every] == [
        ("Hopper-v5", 100_000, 10_000), ("Walker2d-v5", 100_000, 10_000), ("HalfCheetah-v5", 100_000, 10_000),
        ("Ant-v5", 100_000, 10_000), ("Reacher-v5", 30_000, 3_000), ("Pusher-v5", 50_000, 5_000)]
    assert every[0].out == out / "Hopper-v5"
    some = sample_efficiency.parse_args(["--suite", "mujoco", "--envs", "Reacher-v5,Ant-v5", "--steps", "300",
                                         "--methods", "ours", "--out", str(out)])
    assert [(o.env, o.steps, o.eval_every) for o in some] == [("Reacher-v5", 300, 30), ("Ant-v5", 300, 30)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "10", "--eval-every", "5"], "give --env ID, or --suite NAME"),
        (["--env", REACH], "--steps and --eval-every are needed with --env"),
        (["--env", REACH, "--steps", "10", "--eval-every", "5", "--envs", "Ant-v5"], "--envs needs --suite"),
        (["--suite", "mujoco", "--envs", "Ant-v5,CartPole-v1"], "--envs must name envs of the mujoco suite"),
        (["--suite", "atari"], "invalid choice: 'atari'"),
    ],
)
def test_bad_suite_arguments_exit_with_the_reason(sample_efficiency, tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        sample_efficiency.parse_args([*argv, "--methods", "ours", "--out", str(tmp_path)])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_suite_end_to_end_short(sample_efficiency, tmp_path):
    """A short suite run (Reacher alone, 200 steps, tiny agent) writes the env's files and the suite's summary."""
    config = tmp_path / "tiny.yaml"
    config.write_text("task:\n  planner: {name: cem, options: {samples: 16, iterations: 1}}\n  actor: {horizon: 3}\n"
                      "encoder: {name: mlp, options: {hidden_dim: 32}}\nworld_model: {name: jepa, options: {hidden_dim: 32}}\n"
                      "critic: {name: q, options: {hidden_dim: 32}}\n"
                      "training:\n  random_steps: 100\n  pretrain_updates: 5\n  batch_size: 16\n"
                      "  exploration: {planner: {name: cem, options: {samples: 16, iterations: 1}}}\n")
    out = tmp_path / "suite"
    records = sample_efficiency.main(["--suite", "mujoco", "--envs", "Reacher-v5", "--steps", "200", "--eval-every", "100",
                                      "--eval-episodes", "2", "--methods", "ours", "--num-envs", "2",
                                      "--config", str(config), "--out", str(out)])
    assert [r["env_steps"] for r in records] == [100, 200] and (out / "Reacher-v5" / "results.json").is_file()
    summary = json.loads((out / "suite.json").read_text())
    ours = summary["envs"]["Reacher-v5"]["methods"]["ours"]
    assert ours["seeds"] == 1 and ours["iqm"] == pytest.approx(records[-1]["mean_return"])
    assert "| Reacher-v5 | 200 | -3.75 |" in (out / "suite.md").read_text()
    assert sample_efficiency.main(["--summarize", str(out)]) == records
