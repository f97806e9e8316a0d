"""Bad input: every generated bad input gets one clear error line, never a traceback.

    python -m benchmarks.bad_inputs --json runs/bad_inputs.json

``--cases`` generated bad inputs (seeded): unknown config keys, values of the wrong type or
out of range for positive fields, config sections that are not mappings, malformed
``--KEY=VALUE`` overrides, observations of the wrong shape, dtype or with NaN/inf (flat and
dict spaces, missing keys), transitions that do not fit, unknown env ids and near misses,
actions out of bounds from a user's planner, an encoder whose latents disagree with the
other modules' size, checkpoints whose shapes do not fit their config, truncated
checkpoints and replay files; plus the ``jepa-agent`` commands on bad input. A case counts
as a *clear error* when the library raises a ``ValueError``/``TypeError``/``KeyError``/
``FileNotFoundError`` whose one line (``agent.app.cli.error_line``) names what was wrong (the
key, field, id or file), and, for a command, when it exits non-zero with one ``jepa-agent
...`` line on stderr and no traceback. ``benchmarks.reliability`` reports these with its
other checks.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from benchmarks import common
from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.agent.app.cli import error_line, main
from jepa_agent.agent.checkpoint import read_checkpoint, write_file
from jepa_agent.agent.environments import register_optional_suites
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import apply_overrides, parse_override_tokens, validate_config

POSITIVE = [
    "actor.samples", "actor.iterations", "actor.horizon", "training.lr", "training.batch_size",
    "training.window", "encoder.latent_dim", "encoder.hidden_dim", "world_model.hidden_dim",
    "critic.hidden_dim", "replay.capacity", "seed", "task.action_repeat", "training.critic_lr",
]
SECTIONS = ["task", "encoder", "world_model", "critic", "policy", "training", "replay", "memory"]
CLEAR_TYPES = (ValueError, TypeError, KeyError, FileNotFoundError)


@dataclass
class Case:
    category: str
    run: Callable[[], Any]
    mentions: tuple[str, ...] = ()
    what: str = ""


def check_case(case: Case) -> tuple[bool, str]:
    """(clear, one line): raised a clear error naming ``mentions``, else why not."""
    try:
        case.run()
    except CLEAR_TYPES as err:
        line = error_line(err)
        missing = [m for m in case.mentions if m not in line]
        if "\n" in line or len(line) > 800 or missing:
            return False, f"{case.what}: unclear ({'misses ' + repr(missing) if missing else 'too long'}): {line[:200]}"
        return True, line
    except Exception as err:  # an internal error leaked: not a clear refusal
        return False, f"{case.what}: {type(err).__name__} leaked: {error_line(err)[:200]}"
    return False, f"{case.what}: accepted"


def _word(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz_"), n)).strip("_") or "zz"


def config_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    known = set(AgentConfig.model_fields)
    for _ in range(40):
        key = "x" + _word(rng, int(rng.integers(3, 10)))
        section = str(rng.choice(["", *SECTIONS, "actor"]))
        dotted = f"{section}.{key}" if section else key
        if key not in known:
            cases.append(Case("config_unknown_key", lambda d=dotted: apply_overrides(AgentConfig(), {d: 1}), (key,), dotted))
    bad_values: list[Any] = ["abc", [1, 2], {"a": 1}, -1, -3.5, float("nan"), float("-inf"), "1e-x", -1000]
    for field in POSITIVE:
        for j in rng.choice(len(bad_values), 4, replace=False):
            v = bad_values[int(j)]
            cases.append(Case("config_bad_value", lambda f=field, v=v: apply_overrides(AgentConfig(), {f: v}),
                              (field.split(".")[-1],), f"{field}={v!r}"))
    for section in SECTIONS:
        value = [1, "x", 3.0, [1]][int(rng.integers(4))]
        cases.append(Case("config_not_a_mapping", lambda s=section, v=value: validate_config({s: v}), (section,), f"{section}: {value!r}"))
    for _ in range(20):
        token = str(rng.choice(["", "-", "--", "---"])) + _word(rng, int(rng.integers(1, 8))) + str(rng.choice(["", "=", "==3", "=[1,"]))
        if token.startswith("--") and "=" in token and not token.startswith("---"):
            token = token.replace("=", "", 1)  # keep it malformed: no value
        cases.append(Case("override_malformed",
                          lambda t=token: apply_overrides(AgentConfig(), parse_override_tokens([t])), (), repr(token)))
    return cases


def observation_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    agent, env, obs = common.reacher_agent()

    def act(x: Any) -> Any:
        agent.reset()
        return agent.act(x)

    for _ in range(20):
        shape = tuple(int(d) for d in rng.integers(0, 13, int(rng.integers(0, 4))))
        if shape == (10,) or (len(shape) == 2 and shape[0] > 0 and shape[1] == 10):
            shape = (11,)
        cases.append(Case("obs_shape", lambda s=shape: act(np.zeros(s, np.float32)), ("observation",), f"shape {shape}"))
    for _ in range(12):
        x = np.array(obs, dtype=np.float64)
        i = int(rng.integers(10))
        x[i] = [np.nan, np.inf, -np.inf][int(rng.integers(3))]
        batch = bool(rng.integers(2))
        cases.append(Case("obs_nonfinite", lambda x=x, b=batch: act(np.stack([obs, x]) if b else x),
                          ("'observation'", "must be finite", str(i)), f"{x[i]} at {i}{' batched' if batch else ''}"))
    for dtype in ("U3", "O", "c8", "c16", "S2", "M8[s]"):
        cases.append(Case("obs_dtype", lambda d=dtype: act(np.zeros(10, dtype=d)), ("observation",), f"dtype {dtype}"))
    cases.append(Case("obs_dtype", lambda: act(None), ("observation",), "None"))
    cases.append(Case("obs_dtype", lambda: act("abc"), ("observation",), "a string"))

    reach = common.tiny_agent()
    renv = gym.make(common.REACH)
    robs, _ = renv.reset(seed=0)
    goal = renv.unwrapped.goal_observation()

    def ract(x: Any) -> Any:
        reach.reset(goal=goal)
        return reach.act(x)

    for key in robs:
        cases.append(Case("obs_missing_key", lambda k=key: ract({j: v for j, v in robs.items() if j != k}), (key,), f"no {key}"))
        bad = {**robs, key: np.zeros(robs[key].shape[0] + 2, np.float32)}
        cases.append(Case("obs_key_shape", lambda b=bad: ract(b), (key,), f"{key} too long"))

    def observe(reward: Any, done: Any) -> None:
        agent.reset()
        agent.act(obs)
        agent.observe(obs, reward, done)

    for reward, done, name in [
        ([0.0, 1.0], False, "reward"), (np.nan, False, "reward"), ("abc", False, "reward"), (np.inf, False, "reward"),
        ([[1.0, 2.0]], False, "reward"), (0.0, [True, False], "done"), (0.0, np.zeros(3), "done"),
        (-np.inf, True, "reward"), ("x y", False, "reward"), (0.0, [], "done"),
    ]:
        cases.append(Case("transition", lambda r=reward, d=done: observe(r, d), (name,), f"reward={reward!r} done={done!r}"))
    return cases


def env_id_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(15):
        env_id = _word(rng, 6).capitalize() + f"-v{int(rng.integers(10))}"
        if env_id not in gym.registry:
            cases.append(Case("env_id", lambda e=env_id: register_optional_suites(e), ("unknown env", env_id), env_id))
    for near, closest in [("Reacher-v9", "Reacher-v5"), ("Hoper-v5", "Hopper-v5"), ("Pusher-v4x", "Pusher-v4"),
                          ("HalfCheetah-v50", "HalfCheetah-v5"), ("jepa_agent/Reach2D-v9", "jepa_agent/Reach2D-v0")]:
        cases.append(Case("env_id_near_miss", lambda e=near: register_optional_suites(e), (near, closest), near))
    return cases


def action_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    agent = common.tiny_agent()
    env = gym.make(common.REACH)
    obs, _ = env.reset(seed=0)
    goal = env.unwrapped.goal_observation()
    real = agent.actor.planner.plan
    for _ in range(10):
        value = float(rng.choice([-1, 1]) * rng.uniform(1.01, 50)) if rng.random() < 0.8 else float("nan")

        def plan(problem, v=value):
            result = real(problem)
            result.actions = result.actions.clone()
            result.actions[..., 0] = v
            return result

        def run(p=plan):
            agent.reset(goal=goal)
            agent.actor.planner.plan = p
            try:
                agent.act(obs)
            finally:
                agent.actor.planner.plan = real

        cases.append(Case("action_out_of_bounds", run, ("outside the action space",), f"action {value:.3g}"))
    encoder, forward = agent.encoder, agent.encoder.forward
    for width in rng.choice([1, 3, 7, 9, 15, 32], 4, replace=False):

        def wrong_width(w=int(width)):
            agent.reset(goal=goal)
            encoder.forward = lambda o: forward(o)[..., :w] if w < 8 else forward(o).repeat(1, 4)[..., :w]
            try:
                agent.act(obs)
            finally:
                encoder.forward = forward

        cases.append(Case("module_dims", wrong_width, ("encoder", "latent_dim"), f"encoder returns {int(width)} of 8"))
    return cases


def checkpoint_cases(rng: np.random.Generator, folder: Path) -> list[Case]:
    cases = []
    agent = common.tiny_agent(120)
    good = agent.save(folder / "good.pt", resume=True)
    state = read_checkpoint(good)
    for i, (key, value) in enumerate([("encoder", {"latent_dim": 12}), ("world_model", {"hidden_dim": 48}),
                                      ("critic", {"hidden_dim": 40})]):
        bad = json.loads(json.dumps(state["config"]))
        bad[key].setdefault("options", {}).update(value)
        path = folder / f"mismatch_{i}.pt"
        write_file(path, {**state, "config": bad})
        cases.append(Case("checkpoint_shapes", lambda p=path: Agent.load(p), ("shape",), f"{key} {value}"))
    data = good.read_bytes()
    for i in range(6):
        cut = int(rng.integers(1, len(data) - 1))
        path = folder / f"truncated_{i}.pt"
        path.write_bytes(data[:cut])
        cases.append(Case("checkpoint_truncated", lambda p=path: Agent.load(p), (path.name,), f"cut at {cut}"))
    replay = next((folder / "good.resume").glob("*.replay.npz"))
    for i in range(3):
        copy = folder / f"resume_{i}"
        copy.mkdir()
        (copy / "good.resume").mkdir()
        (copy / "good.pt").write_bytes(data)
        for f in (folder / "good.resume").iterdir():
            (copy / "good.resume" / f.name).write_bytes(f.read_bytes())
        target = copy / "good.resume" / replay.name
        if i == 0:
            target.unlink()
        else:
            target.write_bytes(target.read_bytes()[: int(rng.integers(10, 2000))])
        cases.append(Case("resume_files", lambda p=copy / "good.pt": Agent.load(p, resume=True), (replay.name,), f"replay {i}"))
    cases.append(Case("checkpoint_missing", lambda: Agent.load(folder / "nope.pt"), ("nope.pt",), "missing file"))
    return cases


def cli_cases(folder: Path) -> list[Case]:
    """Commands on bad input: non-zero exit, one ``jepa-agent`` line on stderr, no traceback."""
    (folder / "corrupt.pt").write_bytes(b"\x00 not a checkpoint" * 20)
    (folder / "bad.yaml").write_text("actor:\n  sampels: 3\n")
    (folder / "broken.yaml").write_text("actor: [1,\n")
    argvs = [
        ["eval", str(folder / "missing.pt")],
        ["eval", str(folder / "corrupt.pt")],
        ["eval", str(folder / "truncated_0.pt")],
        ["eval", str(folder / "mismatch_0.pt")],
        ["show", str(folder / "corrupt.pt")],
        ["train", "--env=Reachr-v5", "--steps", "10"],
        ["train", "--config", str(folder / "bad.yaml")],
        ["train", "--config", str(folder / "broken.yaml")],
        ["train", "--config", str(folder / "nope.yaml")],
        ["train", "--actor.samples=-4"],
        ["train", "--actor.sampels=4"],
        ["train", "--resume", str(folder / "no_such_run")],
        ["train", "--resume", str(folder / "resume_0")],
        ["collect", "--steps", "-5", "--out", str(folder / "c.npz")],
        ["eval", str(folder / "good.pt"), "--encoder.latent_dim=4"],
    ]

    def run(argv: list[str]) -> None:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                rc = main(argv)
            except SystemExit as exit_:  # argparse's own usage errors
                rc = exit_.code
        lines = [line for line in err.getvalue().splitlines() if line.strip()]
        if rc == 0:
            raise AssertionError(f"exit 0 on bad input {argv}")
        if "Traceback" in err.getvalue():
            raise AssertionError(f"traceback on {argv}")
        mine = [line for line in lines if line.startswith(("jepa-agent", "usage:"))]
        if not mine or not lines[-1].startswith(("jepa-agent", "jepa-agent: error")):
            raise AssertionError(f"no one-line error on {argv}: {lines[-3:]}")
        raise ValueError(lines[-1])  # the line itself: checked like the library's

    return [Case("cli", lambda a=argv: run(a), ("jepa-agent",), " ".join(argv)) for argv in argvs]


def run(seed: int, folder: Path, limit: int | None = None) -> dict[str, Any]:
    """Every case (``limit``: about that many of them, evenly spread), tried in ``folder``:
    how many, how many got a clear error, by category, and the failures."""
    rng = np.random.default_rng(seed)
    cases = [*config_cases(rng), *observation_cases(rng), *env_id_cases(rng), *action_cases(rng),
             *checkpoint_cases(rng, folder), *cli_cases(folder)]
    if limit is not None:
        cases = cases[:: max(1, len(cases) // limit)]
    by_category: dict[str, list[int]] = {}
    failures = []
    for case in cases:
        ok, line = check_case(case)
        by_category.setdefault(case.category, [0, 0])
        by_category[case.category][0] += 1
        by_category[case.category][1] += int(ok)
        if not ok:
            failures.append(f"[{case.category}] {line}")
    return {
        "bad_inputs_tried": len(cases),
        "bad_inputs_clear_error": len(cases) - len(failures),
        "bad_inputs_by_category": {k: {"tried": v[0], "clear": v[1]} for k, v in by_category.items()},
        "bad_input_failures": failures,
    }


def main_(argv: Sequence[str] | None = None) -> int:
    p = common.parser(__doc__, full=True, json_out="optional", seed=True)
    p.add_argument("--cases", type=int, help="about this many of the cases (default: all)")
    args = p.parse_args(argv)
    common.setup()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.seed, Path(tmp), args.cases)
    if args.json:
        common.write_json(args.json, result)
    common.show(result, ["bad_inputs_tried", "bad_inputs_clear_error"])
    for failure in result["bad_input_failures"]:
        print("unclear:", failure)
    return 0 if result["bad_inputs_clear_error"] == result["bad_inputs_tried"] else 1


if __name__ == "__main__":
    sys.exit(main_())
