"""The collection loops, above the agent: :func:`train` and :func:`collect` run the B envs'
episodes into the replay, with faults survived and counted, learning as it goes. With
them this module exports the one episode loop, :func:`evaluate` (``agent.evaluation``), so
``from jepa_agent.agent.loops import train, evaluate`` has every loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from jepa_agent.agent.agent import Agent, Callback
from jepa_agent.agent.collection import (
    MAX_FAULTS_IN_A_ROW,
    Collection,
    ObsDict,
    error_text,
    latest_metrics,
    nanmean,
)
from jepa_agent.agent.evaluation import (
    Controller,
    OnStep,
    PolicyController,
    ResetOptions,
    StepView,
    evaluate,
    final_distance,
    goals_at,
    new_goals,
)
from jepa_agent.agent.vector import as_vector_env
from jepa_agent.configurator.collecting import epistemic_weight, practice_goals
from jepa_agent.envs.step_guard import nonfinite_faults

__all__ = [
    "Controller", "OnStep", "PolicyController", "ResetOptions", "StepView", "collect", "evaluate",
    "exploring_randomly", "final_distance", "train",
]

log = logging.getLogger(__name__)


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
    agent.reset(goal=new_goals(agent, steps, range(steps.num_envs), infos))
    col = Collection(steps, obs, agent.action_dim)
    agent._collection = col
    return col


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
    goals = goals_at(agent, steps, rows, reset_infos)
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
    agent.restart(np.ones(B, dtype=bool), new_goals(agent, col.steps, range(B), infos))
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
