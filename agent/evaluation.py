"""The one episode loop, :func:`evaluate`: every evaluation in the library and its benchmarks
runs here (``Agent.evaluate`` forwards to it; ``agent.loops`` exports it beside the
collection loops), extended by hooks rather than copied (stable-baselines3's
``evaluate_policy`` habit):

- ``reset_options``: the options of each episode's ``env.reset(seed=, options=)``, e.g. a
  maze's start and goal cells (Gymnasium-Robotics' ``reset_cell`` / ``goal_cell``);
- ``on_step``: called after every step of the B envs with the agent and a
  :class:`StepView` (the observations acted on, the action, what the envs gave, which
  episode each env runs, the act latency); it can record what it likes (the path, the
  planner's subgoals) and may end episodes early by returning a mask (stop at the first
  success, a step cap of one's own).

The agent only acts: the loop resets the envs, hands each env's goal to ``agent.reset`` /
``agent.restart``, steps, and keeps the records. What acts need not be an :class:`Agent`:
:class:`PolicyController` puts any policy (a baseline's model, a hand-coded controller, a
planner on the true dynamics) through the same loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from jepa_agent.agent.agent import Agent
from jepa_agent.agent.collection import ObsDict, nanmean, stack_obs, success_so_far
from jepa_agent.agent.spaces import success_of
from jepa_agent.agent.vector import Step, VectorSteps, as_vector_env
from jepa_agent.configurator import TaskSpec

__all__ = ["Controller", "OnStep", "PolicyController", "ResetOptions", "StepView", "evaluate", "final_distance"]


ResetOptions = Callable[[int], Mapping[str, Any] | None] | Sequence[Mapping[str, Any] | None]
"""Episode ``i``'s reset options: a function of ``i``, or a sequence indexed by ``i``."""



@dataclass(frozen=True)
class StepView:
    """One step of the B envs as :func:`evaluate`'s ``on_step`` hook sees it.

    ``obs``: the raw observations (batched, as the envs gave them) the agent acted on;
    ``action`` (B, A); ``step``: what the envs gave (:class:`agent.vector.Step`: the
    observations ending the transition, rewards, ends, infos); ``episodes[i]``: the index
    of the episode env ``i`` ran (None once it has no more to run); ``act_ms``: the act
    call's wall time (for all B); ``length`` (B,): env steps into each env's episode, this
    step included."""

    obs: Any
    action: np.ndarray
    step: Step
    episodes: list[int | None]
    act_ms: float
    length: np.ndarray


class Controller(Protocol):
    """What :func:`evaluate` needs of whatever acts: an :class:`Agent`, or any policy inside a
    :class:`PolicyController`.

    ``task.action_repeat`` (env steps per action) and ``task.success`` (``"final"`` or
    ``"any"``: which success an episode's record reports); ``goal_kind`` (``"observation"``:
    the loop hands each env's goal observation to ``reset`` / ``restart``); ``_goal_obs`` (the
    goals it holds, read when some envs restart); ``_adapt(obs, batched=True)`` (the envs'
    observations as ``act`` takes them); ``reset(task, goal=)`` when every env begins an
    episode, ``restart(rows, goal)`` when the envs ``rows`` (B,) bool do; ``act(obs, mode=)``
    -> (B, A) actions."""

    task: Any
    goal_kind: str
    _goal_obs: Any

    def _adapt(self, obs: Any, *, batched: bool | None = None) -> Any: ...

    def reset(self, task: Any = None, *, goal: Any = None) -> None: ...

    def restart(self, rows: np.ndarray, goal: Any = None) -> None: ...

    def act(self, obs: Any, *, mode: str | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class PolicyTask:
    """A :class:`PolicyController`'s part of a task: env steps per action, and which success
    an episode's record reports (``"final"``: at its last step; ``"any"``: at any step)."""

    action_repeat: int = 1
    success: str = "final"


class PolicyController:
    """Any policy as :func:`evaluate`'s controller, so that every evaluation runs the one loop:
    a baseline's trained model (stable-baselines3's ``model.predict``), a hand-coded controller,
    a planner on the true dynamics.

    ``policy(obs) -> (B, A)`` actions for the B envs' raw observations (batched as the vector
    env gives them). ``on_reset(rows)``, if given, is called when episodes begin, after the
    envs reset and before the first action: ``rows`` is None when every env begins one, else
    the (B,) bool mask of those that do (a policy with per-episode state clears it there).
    ``action_repeat``: env steps per action (the loop wraps the envs as an agent's);
    ``success``: which success the records report. ``mode`` and goals are not used: the policy
    reads the goal from the observation or from its env.

    Shapes: obs (B, ...) or {key: (B, ...)} -> actions (B, A).
    """

    goal_kind = "none"
    _goal_obs = None

    def __init__(
        self,
        policy: Callable[[Any], np.ndarray],
        *,
        on_reset: Callable[[np.ndarray | None], None] | None = None,
        action_repeat: int = 1,
        success: str = "final",
    ) -> None:
        if success not in ("final", "any"):
            raise ValueError(f"success must be 'final' or 'any', got {success!r}")
        if not isinstance(action_repeat, int) or action_repeat < 1:
            raise ValueError(f"action_repeat must be a positive int, got {action_repeat!r}")
        self.policy, self.on_reset = policy, on_reset
        self.task = PolicyTask(action_repeat, success)

    def _adapt(self, obs: Any, *, batched: bool | None = None) -> Any:
        return obs  # the policy takes the envs' observations as they come

    def reset(self, task: Any = None, *, goal: Any = None) -> None:
        if task is not None:
            raise ValueError("a PolicyController has no task to change: evaluate(..., task=None)")
        if self.on_reset is not None:
            self.on_reset(None)

    def restart(self, rows: np.ndarray, goal: Any = None) -> None:
        if self.on_reset is not None:
            self.on_reset(np.asarray(rows, dtype=bool))

    def act(self, obs: Any, *, mode: str | None = None) -> np.ndarray:
        return np.asarray(self.policy(obs))


OnStep = Callable[[Controller, StepView], np.ndarray | None]
"""``on_step(agent, view)``: returns None, or a (B,) bool mask of the episodes to end after
this step (their record is taken from it, as if the env had ended them)."""


def evaluate(
    agent: Controller,
    env: Any,
    episodes: int,
    *,
    seed: int = 1_000_000,
    mode: str | None = None,
    task: TaskSpec | None = None,
    reset_options: ResetOptions | None = None,
    on_step: OnStep | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run ``episodes`` episodes without exploration noise, on one env or on the B envs
    of a ``VectorEnv`` (or a list of envs) at once, one batched plan per step for all.
    ``agent``: an :class:`Agent`, or any policy inside a :class:`PolicyController` (what the
    loop needs of it: :class:`Controller`).

    Episode ``i`` resets with ``seed + i`` (and ``reset_options``' options for ``i``)
    whichever env runs it: pick a seed range the training never used to evaluate on
    held-out goals. ``task``: evaluate under another task (planner, budget, horizon, cost
    weights: ``agent.reset(task)``); the agent keeps it afterwards. The episodes are the same for any B; a sampling planner's draws are not
    (it plans for all B at once). ``on_step`` sees every step (see :data:`OnStep`);
    ``callback`` gets the progress after each finished episode.

    Returns the mean and spread of the return, the success rate at the final step
    (``success_rate_final``) and at any step (``success_rate_any``; ``success_rate`` is the
    one ``task.success`` names; NaN where the env reports no success), final distances where
    the env reports them, the wall-clock time of every ``act`` call (the control latency,
    for all B envs), and one record per episode in episode order.
    """
    if not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be a positive int, got {episodes!r}")
    steps = as_vector_env(env, agent.task.action_repeat)
    B = steps.num_envs
    running: list[int | None] = [i if i < episodes else None for i in range(B)]  # the episode each env runs
    queued = min(B, episodes)
    raw, infos = steps.reset([seed + i if i < episodes else None for i in range(B)])
    raw, more = _apply_options(steps, raw, running, seed, reset_options)
    infos = [more.get(i, info) for i, info in enumerate(infos)]
    obs = agent._adapt(raw, batched=True)
    agent.reset(task, goal=new_goals(agent, steps, range(B), infos))
    ret, length, any_success = np.zeros(B), np.zeros(B, dtype=np.int64), np.full(B, np.nan)
    records: list[dict[str, Any]] = []
    act_ms: list[float] = []
    while any(r is not None for r in running):
        t0 = time.perf_counter()
        action = agent.act(obs, mode=mode)
        act_ms.append((time.perf_counter() - t0) * 1e3)
        st = steps.step(action)
        start_obs, reset_infos = st.start_obs, dict(st.reset_infos)
        ret += st.reward
        length += np.array([int(info.get("env_steps", 1)) for info in st.infos])
        any_success = np.array([success_so_far(a, success_of(info)) for a, info in zip(any_success, st.infos, strict=True)])
        done = st.done.copy()
        ended_early = np.zeros(B, dtype=bool)
        if on_step is not None:
            stop = on_step(agent, StepView(raw, action, st, list(running), act_ms[-1], length.copy()))
            if stop is not None:
                ended_early = np.asarray(stop, dtype=bool).reshape(B) & ~done
                done |= ended_early
        reseed: list[int | None] = [None] * B
        for i in np.flatnonzero(done):
            if running[i] is not None:
                records.append(_record(agent, seed + running[i], st, i, ret[i], length[i], any_success[i]))
                if callback is not None:
                    callback({"episode": len(records), "episodes": episodes,
                              "success": nanmean([r["success"] for r in records]),
                              "return": float(np.mean([r["return"] for r in records]))})
            running[i] = queued if queued < episodes else None
            if running[i] is not None:
                reseed[i] = seed + queued
                queued += 1
            ret[i], length[i], any_success[i] = 0.0, 0, np.nan
        again = np.array([r is not None for r in reseed]) | ended_early
        if again.any():  # the next held-out episodes, each with its own seed (an early end: reset too)
            start_obs, more = steps.reset_some(start_obs, again, reseed)
            reset_infos.update(more)
            start_obs, more = _apply_options(steps, start_obs, [r if reseed[i] is not None else None
                                                                for i, r in enumerate(running)], seed, reset_options)
            reset_infos.update(more)
        raw, obs = start_obs, agent._adapt(start_obs, batched=True)
        if done.any() and any(r is not None for r in running):
            if done.all():
                agent.reset(goal=new_goals(agent, steps, range(B), reset_infos))
            else:
                rows = np.flatnonzero(done)
                agent.restart(done, goals_at(agent, steps, rows, reset_infos))
    records.sort(key=lambda r: r["seed"])
    returns = [r["return"] for r in records]
    return {
        "success_rate": nanmean([r["success"] for r in records]),
        "success_rate_final": nanmean([r["success_final"] for r in records]),
        "success_rate_any": nanmean([r["success_any"] for r in records]),
        "mean_final_distance": nanmean([r["final_distance"] for r in records]),
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "episodes": episodes,
        "num_envs": B,
        "act_ms_median": float(np.median(act_ms)),
        "act_ms_p90": float(np.percentile(act_ms, 90)),
        "records": records,
    }


def new_goals(agent: Agent, steps: VectorSteps, rows: Any, infos: Any) -> ObsDict | None:
    """The goal observations (batched over ``rows``) of the envs ``rows`` that began an
    episode, for a goal-observation task (else None): from their reset info's
    ``goal_observation``, or their ``goal_observation()``. ``infos``: indexable by row."""
    if agent.goal_kind != "observation":
        return None
    rows = list(rows)
    given = [infos[i].get("goal_observation") for i in rows]
    missing = [i for i, g in zip(rows, given, strict=True) if g is None]
    asked = dict(zip(missing, steps.goal_observations(missing), strict=True)) if missing else {}
    return stack_obs([agent._adapt(g if g is not None else asked[i], batched=False)
                      for i, g in zip(rows, given, strict=True)])


def goals_at(agent: Agent, steps: VectorSteps, rows: np.ndarray, reset_infos: Mapping[int, Any]) -> ObsDict | None:
    """The goal observations of all B envs with the new ones of ``rows`` in place (the
    other rows are not read by :meth:`restart`)."""
    new = new_goals(agent, steps, [int(i) for i in rows], reset_infos)
    if new is None or not agent._goal_obs:
        return None
    goals = {k: v.copy() for k, v in agent._goal_obs[-1].items()}
    for k in goals:
        goals[k][rows] = new[k]
    return goals


# --------------------------------------------------------------------------- evaluation helpers
def _apply_options(steps: Any, obs: Any, running: Sequence[int | None], seed: int,
                   reset_options: ResetOptions | None) -> tuple[Any, dict[int, dict[str, Any]]]:
    """Reset again, with its options, each env that begins an episode (``running[i]`` not
    None) whose options are given: with the same seed a reset is the same reset, now with
    the options. Envs are reset one at a time (Gymnasium's vector envs take one options dict
    for all)."""
    infos: dict[int, dict[str, Any]] = {}
    if reset_options is None:
        return obs, infos
    for i, episode in enumerate(running):
        if episode is None:
            continue
        options = reset_options(episode) if callable(reset_options) else reset_options[episode]
        if options is None:
            continue
        mask = np.zeros(steps.num_envs, dtype=bool)
        mask[i] = True
        seeds: list[int | None] = [None] * steps.num_envs
        seeds[i] = seed + episode
        obs, more = steps.reset_some(obs, mask, seeds, options=options)
        infos.update(more)
    return obs, infos


def _record(agent: Agent, seed: int, st: Step, i: int, ret: float, length: int, any_success: float) -> dict[str, Any]:
    info = st.infos[i]
    final = success_of(info)
    return {
        "seed": seed,
        "success": final if agent.task.success == "final" else any_success,
        "success_final": final,
        "success_any": any_success,
        "final_distance": final_distance(info, st.ended_obs, i),
        "return": float(ret),
        "length": int(length),
        "terminated": bool(st.terminated[i]),
        "fault": info.get("fault"),
    }


def final_distance(info: Mapping[str, Any], ended_obs: Any, i: int) -> float:
    """``info["distance"]`` where the env gives it, else the achieved-to-desired goal
    distance of a goal env's observation (row ``i`` of a batch), else NaN."""
    if "distance" in info:
        return float(info["distance"])
    if isinstance(ended_obs, Mapping) and "achieved_goal" in ended_obs and "desired_goal" in ended_obs:
        diff = np.asarray(ended_obs["achieved_goal"][i], dtype=np.float64) - np.asarray(ended_obs["desired_goal"][i])
        return float(np.linalg.norm(diff))
    return float("nan")
