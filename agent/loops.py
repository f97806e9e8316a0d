"""The loops that drive an agent, above it: :func:`train` and :func:`collect` (the B envs'
running episodes into the replay, with faults survived and counted, learning as it goes)
and :func:`evaluate`, the one episode loop.

Every evaluation in the library and its benchmarks runs here (``Agent.evaluate`` forwards to
it), extended by hooks rather than copied (stable-baselines3's ``evaluate_policy`` habit):

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

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from jepa_agent.agent.agent import Agent, Callback
from jepa_agent.agent.collection import (
    MAX_FAULTS_IN_A_ROW,
    Collection,
    ObsDict,
    error_text,
    latest_metrics,
    nanmean,
    stack_obs,
    success_so_far,
)
from jepa_agent.agent.spaces import success_of
from jepa_agent.agent.vector import Step, VectorSteps, as_vector_env
from jepa_agent.configurator import TaskSpec
from jepa_agent.configurator.collecting import epistemic_weight, practice_goals
from jepa_agent.envs.step_guard import nonfinite_faults

__all__ = [
    "Controller", "OnStep", "PolicyController", "ResetOptions", "StepView", "collect", "evaluate",
    "exploring_randomly", "final_distance", "train",
]

log = logging.getLogger(__name__)

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
    agent.reset(task, goal=_new_goals(agent, steps, range(B), infos))
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
                agent.reset(goal=_new_goals(agent, steps, range(B), reset_infos))
            else:
                rows = np.flatnonzero(done)
                agent.restart(done, _goals_at(agent, steps, rows, reset_infos))
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


# --------------------------------------------------------------------------- collection
def train(
    agent: Agent, env: Any, steps: int, *, callback: Callback | None = None, stop: Callable[[], bool] | None = None
) -> dict[str, list]:
    """Collect ``steps`` env steps (give or take one step of the B envs) and learn from them.

    ``env`` is a ``gymnasium.vector.VectorEnv`` of B envs (any autoreset mode), one env,
    or a list of B envs (stepped as a ``SyncVectorEnv``); the planner plans for all B in
    one batched call. Each env's episode ends on its own (terminated or truncated) and
    that env starts the next one while the others go on; no transition across an
    episode boundary is stored. Calling ``train`` again with the same envs continues
    their episodes. The first ``random_steps`` use random actions held for
    ``exploration.random_repeat`` steps; then, after ``pretrain_updates`` updates, the planner
    acts with Gaussian exploration noise and ``updates_per_step`` updates follow every
    env step. ``callback`` receives a dict of progress after every step that ended an
    episode. ``stop`` is asked before every step; True ends the call there (a state
    :meth:`save` can resume from). Returns the history of episodes and updates.
    """
    tcfg = agent.config.training
    ecfg = tcfg.exploration
    history: dict[str, list] = {"episodes": [], "updates": []}
    target = agent.env_steps + steps
    low, high = agent.action_low.cpu().numpy(), agent.action_high.cpu().numpy()
    half = (high - low) / 2
    start = time.perf_counter()
    col = _collection_for(agent, env, agent.config.seed * 10_000 if agent.env_steps == 0 else None)
    while agent.env_steps < target:
        if stop is not None and stop():
            break
        agent.between_steps = False
        steps_before = agent.env_steps
        exploring = exploring_randomly(agent)
        if exploring:
            col.refresh_held(agent.rng, low, high, ecfg.random_repeat)
            agent.act(col.obs, mode="random")
            action = col.held
        else:
            if agent.updates == 0:  # learning starts: fit normalisation, then pretrain
                agent.adapt()
                history["updates"] += _do_updates(agent, tcfg.pretrain_updates)
            if agent._epistemic is not None:
                agent._epistemic.weight = epistemic_weight(ecfg, agent.env_steps)
            try:
                asked = _practising(agent, col, col.obs)
                action = agent._act(asked, None, agent.collect_actor)
                if asked is not col.obs:  # the replay keeps the env's own desired_goal
                    agent._last_obs = agent._to_batch(col.obs)[0]
            except Exception as err:  # a module (the user's) raised: end the episodes, go on
                log.warning("acting raised (%s); every env's episode ends here", error_text(err))
                _end_all_episodes(agent, col, "act_error", history["episodes"], start)
                agent.between_steps = True
                continue
            noise = ecfg.std * half * agent.rng.standard_normal(action.shape)
            action = np.clip(action + noise, low, high).astype(np.float32)
            if ecfg.practice_explore and col.practice_goal is not None and col.practice.any():
                col.beyond |= col.practice & _reached_practice(agent, col)
                if col.beyond.any():  # past the frontier: random actions from here
                    col.refresh_held(agent.rng, low, high, ecfg.random_repeat)
                    action = np.where(col.beyond[:, None], col.held, action).astype(np.float32)
                    agent._last_from_planner = ~col.beyond  # the policy learns only the planner's
        finished = _step_collection(agent, col, action, exploring, history["episodes"], start,
                                         practice=ecfg.practice_goals > 0)
        if not exploring:
            agent._pending_updates += tcfg.updates_per_step * col.steps.num_envs
            n = int(agent._pending_updates)
            agent._pending_updates -= n
            history["updates"] += _do_updates(agent, n)
            if tcfg.refit_every and agent.env_steps // tcfg.refit_every > steps_before // tcfg.refit_every:
                agent.learner.refit()  # in the step that crosses a multiple
        agent.between_steps = True
        if finished and callback is not None:
            recent = history["episodes"][-20:]
            callback(
                {
                    "env_steps": agent.env_steps,
                    "target": target,
                    "updates": agent.updates,
                    "success": nanmean([e["success"] for e in recent]),
                    "return": float(np.mean([e["return"] for e in recent])) if recent else float("nan"),
                    "phase": "random" if exploring else "planner",
                    "last_update": latest_metrics(history["updates"][-60:]),
                }
            )
    return history


def collect(
    agent: Agent,
    env: Any,
    steps: int,
    *,
    policy: str = "random",
    exploration_std: float = 0.0,
    seed: int | None = None,
    callback: Callback | None = None,
) -> list[dict[str, Any]]:
    """Run a policy for ``steps`` env steps into the replay buffer, learning nothing.

    ``policy``: ``random`` (uniform actions held for ``training.exploration.random_repeat``
    steps, as training explores), ``plan`` (mode 2) or ``policy`` (mode 1), with Gaussian
    ``exploration_std`` noise (fraction of the half-range). Episodes end per env, as in
    :meth:`train`. ``seed`` (if given) seeds the first reset of the envs and the random
    draws, and begins new episodes. Returns one record per finished episode.
    """
    if policy not in ("random", "plan", "policy"):
        raise ValueError(f"policy must be random, plan or policy, got {policy!r}")
    low, high = agent.action_low.cpu().numpy(), agent.action_high.cpu().numpy()
    episodes: list[dict[str, Any]] = []
    target = agent.env_steps + steps
    start = time.perf_counter()
    rng = agent.rng if seed is None else np.random.default_rng(seed)
    if seed is not None:
        agent._collection = None
    col = _collection_for(agent, env, seed)
    while agent.env_steps < target:
        if policy == "random":
            col.refresh_held(rng, low, high, agent.config.training.exploration.random_repeat)
            agent.act(col.obs, mode="random")
            action = col.held
        else:
            action = agent.act(col.obs, mode=policy)
            noise = exploration_std * (high - low) / 2 * rng.standard_normal(action.shape)
            action = np.clip(action + noise, low, high).astype(np.float32)
        if _step_collection(agent, col, action, policy == "random", episodes, start) and callback is not None:
            callback({"env_steps": agent.env_steps, "target": target, "episodes": agent.replay.num_episodes,
                      "success": nanmean([e["success"] for e in episodes[-20:]])})
    return episodes


def exploring_randomly(agent: Agent) -> bool:
    """Whether training still acts at random: within ``training.random_steps``, or before
    any episode long enough to learn from has ended."""
    return agent.env_steps < agent.config.training.random_steps or not _can_learn(agent)


def _can_learn(agent: Agent) -> bool:
    lengths = agent.replay.episode_lengths()
    return len(lengths) > 0 and int(lengths.max()) >= agent.config.training.window


def _collection_for(agent: Agent, env: Any, seed: int | None) -> Collection:
    """The envs' running episodes: continued when the same envs come back, else begun
    with env ``i`` reset with ``seed + i`` (None: unseeded, each env's RNG runs on)."""
    col = agent._collection
    if col is not None and col.steps.same(env):
        if agent._last_obs is not None and agent.memory is not None and agent.memory.batch_size == col.steps.num_envs:
            return col
        steps = col.steps
    else:
        steps = as_vector_env(env, agent.task.action_repeat)
    raw, infos = steps.reset(seed)
    obs = agent._adapt(raw, batched=True)
    agent.reset(goal=_new_goals(agent, steps, range(steps.num_envs), infos))
    col = Collection(steps, obs, agent.action_dim)
    agent._collection = col
    return col


def _new_goals(agent: Agent, steps: VectorSteps, rows: Any, infos: Any) -> ObsDict | None:
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


def _step_collection(
    agent: Agent, col: Collection, action: np.ndarray, random: bool, records: list[dict[str, Any]], start: float,
    *, practice: bool = False,
) -> bool:
    """Step the B envs with their actions, record the transitions, and start a new
    episode in each env whose episode ended (``practice``: those that start once the
    planner acts may pursue a practice goal). True if any ended.

    An env that raises in ``step``, returns a non-finite observation or reward, or whose
    simulator goes unstable (:class:`envs.StepGuard` reports it, or the check here finds
    it) has its episode ended before that step (the step is not stored), the fault
    counted in :attr:`faults`, and starts again. A vector env that raises as a whole ends
    every env's episode."""
    steps = col.steps
    try:
        st = steps.step(action)
    except Exception as err:  # a user's vector env (or an unguarded env in it) raised
        log.warning("the envs raised in step (%s); every env's episode ends there", error_text(err))
        _end_all_episodes(agent, col, "env_error", records, start)
        return True
    B = steps.num_envs
    faults: dict[int, str] = {}
    unguarded = nonfinite_faults(st.ended_obs, st.reward)  # envs not inside a StepGuard report nothing
    for i in range(B):
        kind = st.infos[i].get("fault") or unguarded[i]
        if kind is not None:
            faults[i] = str(kind)
            agent._count_fault(faults[i])
    restart_now = np.zeros(B, dtype=bool)
    restart_now[[i for i in faults if not st.done[i]]] = True
    start_obs, reset_infos = st.start_obs, dict(st.reset_infos)
    if restart_now.any():  # a fault the env did not end its episode for: reset it here
        start_obs, more = steps.reset_some(start_obs, restart_now)
        reset_infos.update(more)
    start_obs = agent._adapt(start_obs, batched=True)
    ended = agent._adapt(st.ended_obs, batched=True)
    skip = np.zeros(B, dtype=bool)
    skip[list(faults)] = True
    if skip.any():  # the faulted rows are not stored; keep the batch finite for the checks
        ended = {k: np.where(skip.reshape(-1, *[1] * (v.ndim - 1)), start_obs[k], v) for k, v in ended.items()}
    reward = np.where(skip, 0.0, st.reward)
    terminated = st.terminated & ~skip
    done = st.done | skip
    infos = [{} if skip[i] else st.infos[i] for i in range(B)]
    env_steps = np.array([int(info.get("env_steps", 1)) for info in infos])
    agent._observe(ended, reward, done, action=action, terminated=terminated, steps=env_steps, skip=skip)
    col.step(reward, infos, random, env_steps)
    col.obs = start_obs
    if not done.any():
        agent._fault_streak = 0
        return False
    agent._fault_streak = agent._fault_streak + 1 if faults else 0
    if agent._fault_streak >= MAX_FAULTS_IN_A_ROW:
        raise RuntimeError(
            f"{agent._fault_streak} steps in a row had a fault (last: {sorted(set(faults.values()))}); "
            "training stops rather than loop on a broken env"
        )
    rows = np.flatnonzero(done)
    for i in rows:
        records.append(col.finish(i, infos[i], agent.env_steps, bool(terminated[i]), time.perf_counter() - start,
                                  fault=faults.get(int(i))))
        if agent.coverage is not None:
            records[-1]["coverage"] = agent.coverage.fraction
    goals = _goals_at(agent, steps, rows, reset_infos)
    if practice and agent.env_steps >= agent.config.training.random_steps and _can_learn(agent):
        # an episode that starts once the planner acts may practise
        picked = rows[agent.rng.random(len(rows)) < agent.config.training.exploration.practice_goals]
        if len(picked):  # these episodes practise reaching the frontier instead of the env's goal
            chosen, achieve = _practice_goals(agent, len(picked))
            if goals is not None:  # a goal-observation task: the goal is the observation
                for k in goals:
                    goals[k][picked] = chosen[k]
            if "achieved_goal" in chosen:  # where it was: a goal env's desired goal, and "reached"
                if col.practice_goal is None:
                    col.practice_goal = np.zeros((B, chosen["achieved_goal"].shape[-1]), dtype=np.float32)
                col.practice_goal[picked] = chosen["achieved_goal"]
            col.practice[picked] = True
            col.achieve[picked] = achieve
    agent.restart(done, goals)
    return True


def _reached_practice(agent: Agent, col: Collection) -> np.ndarray:
    """Which envs' achieved goal is within ``task.subgoal_threshold`` of their practice goal (B,)."""
    achieved = col.obs.get("achieved_goal")
    if achieved is None or col.practice_goal is None:
        return np.zeros(col.steps.num_envs, dtype=bool)
    return np.linalg.norm(achieved - col.practice_goal, axis=-1) < agent.task.subgoal_threshold


def _practising(agent: Agent, col: Collection, obs: ObsDict) -> ObsDict:
    """``obs`` with the practice goal as ``desired_goal`` in the envs of a goal env that
    practise (what the planner is asked to reach; the stored observations keep the env's)."""
    if col.practice_goal is None or not col.practice.any() or "desired_goal" not in obs or agent.goal_kind != "desired_goal":
        return obs
    rows = col.practice.reshape(-1, 1)
    return {**obs, "desired_goal": np.where(rows, col.practice_goal, obs["desired_goal"]).astype(np.float32)}


def _practice_goals(agent: Agent, n: int) -> tuple[ObsDict, np.ndarray]:
    """``n`` practice goals from the replay (:func:`configurator.collecting.practice_goals`)
    and which are drawn evenly over the visited cells (n,) bool."""
    return practice_goals(agent.configurator, agent.replay, n, rng=agent.rng, generator=agent.generator,
                          encode=lambda obs: agent.world_model.encode_target(agent._tensors(obs)),
                          world_model=agent.world_model, visits=lambda achieved: _visits(agent, achieved))


def _visits(agent: Agent, achieved: np.ndarray) -> np.ndarray:
    """Stored states in the goal-space cell of each of ``achieved`` (C, G)."""
    if agent.coverage is None:
        raise RuntimeError("practice goals by goal-space cell need agent.coverage (Run sets it for goal envs; "
                           "else set agent.coverage = GoalCoverage.from_env(env))")
    return agent.coverage.visits(achieved).astype(np.float64)


def _goals_at(agent: Agent, steps: VectorSteps, rows: np.ndarray, reset_infos: Mapping[int, Any]) -> ObsDict | None:
    """The goal observations of all B envs with the new ones of ``rows`` in place (the
    other rows are not read by :meth:`restart`)."""
    new = _new_goals(agent, steps, [int(i) for i in rows], reset_infos)
    if new is None or not agent._goal_obs:
        return None
    goals = {k: v.copy() for k, v in agent._goal_obs[-1].items()}
    for k in goals:
        goals[k][rows] = new[k]
    return goals


def _end_all_episodes(agent: Agent, col: Collection, kind: str, records: list[dict[str, Any]], start: float) -> None:
    """A module raised while acting, or the vector env as a whole: every env's episode
    ends before this step (nothing of the step is stored) and every env starts a new one."""
    B = col.steps.num_envs
    agent._count_fault(kind)
    for i in range(B):
        agent._store_episode(i)
        records.append(col.finish(i, {}, agent.env_steps, False, time.perf_counter() - start, fault=kind))
    try:
        raw, infos = col.steps.reset(None)
    except Exception as err:
        raise RuntimeError(f"the envs failed ({kind}) and then raised in reset: {error_text(err)}") from err
    col.obs = agent._adapt(raw, batched=True)
    agent.restart(np.ones(B, dtype=bool), _new_goals(agent, col.steps, range(B), infos))
    agent._fault_streak += 1
    if agent._fault_streak >= MAX_FAULTS_IN_A_ROW:
        raise RuntimeError(f"{agent._fault_streak} steps in a row had a fault (last: {kind}); training stops")


def _do_updates(agent: Agent, n: int) -> list[dict[str, float]]:
    if not _can_learn(agent):
        return []  # nothing to learn from yet (e.g. a loaded agent with an empty replay)
    out = []
    for _ in range(n):
        try:
            info = agent.update()
        except Exception as err:  # a module of the user's raised while learning
            agent._count_fault("update_error")
            agent._update_streak += 1
            log.warning("update %d raised (%s); it is skipped", agent.updates, error_text(err))
            if agent._update_streak >= MAX_FAULTS_IN_A_ROW:
                raise RuntimeError(f"{agent._update_streak} updates in a row raised; the last: {error_text(err)}") from err
            continue
        agent._update_streak = 0
        info["update"] = agent.updates
        info["env_steps"] = agent.env_steps
        out.append(info)
    return out


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
