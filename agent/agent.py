"""The agent: composes the six modules, runs the closed loop and trains them.

One control step (DESIGN.md): ``obs -> perception -> s``; the configurator supplies the
goal latent; the actor plans in the world model against the cost (intrinsic terms plus
the critic past the horizon) and returns the first action; short-term memory keeps the
step and the imagined plan; finished episodes go to the replay buffer for learning.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from jepa_agent.actor import Actor
from jepa_agent.agent.checkpoint import (
    FORMAT,
    read_checkpoint,
    restore_agent,
    write_file,
)
from jepa_agent.agent.collection import Collection, ObsDict, new_episode, per_env, spell, stack_obs
from jepa_agent.agent.coverage import GoalCoverage
from jepa_agent.agent.learning import Learner
from jepa_agent.agent.pretrained import load_pretrained_state, save_pretrained
from jepa_agent.agent.provenance import provenance
from jepa_agent.agent.resume import loop_state, resume_training, training_state
from jepa_agent.agent.spaces import EncoderEntries, adapt_observation, inspect_env
from jepa_agent.configurator import AgentConfig, Configurator, Modules, TaskSpec
from jepa_agent.configurator.collecting import check_practice, collection_actor
from jepa_agent.configurator.resolve import resolve_device as _device_name
from jepa_agent.configurator.routes import Router
from jepa_agent.memory import LandmarkGraph, ReplayBuffer, ShortTermMemory, to_torch

log = logging.getLogger(__name__)

Callback = Callable[[dict[str, Any]], None]


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU; anything else is passed to torch
    (``configurator.resolve``, as an agent resolves its config's device)."""
    return torch.device(_device_name(str(device), cuda_available=torch.cuda.is_available()))


class Agent:
    """Build with :meth:`from_config` (or :meth:`load`); then ``reset`` / ``act`` / ``observe``.

    ``act`` takes one observation or a batch from B environments and returns actions of the
    same batching. :meth:`train` and :meth:`evaluate` run whole loops on Gymnasium envs.

    The task's objective (``TaskSpec.objective``) decides what the goal is: a goal
    observation (``reset(goal=env.goal_observation())``), the ``desired_goal`` entry of each
    observation (goal envs without a goal observation: ``reset()``), or nothing (a task
    defined by the env's reward: ``reset()``).
    """

    def __init__(
        self,
        config: AgentConfig,
        *,
        input_shapes: Mapping[str, Sequence[int]],
        action_low: np.ndarray,
        action_high: np.ndarray,
        hwc_keys: Sequence[str] = (),
        goal_observation: bool = True,
    ) -> None:
        self.config = config
        """The config as given, its autos kept (what checkpoints save); ``configurator.config``
        is the one the modules are built from, every auto resolved."""
        self.configurator = Configurator(
            config, input_shapes=input_shapes, action_low=torch.as_tensor(np.asarray(action_low, dtype=np.float32)),
            action_high=torch.as_tensor(np.asarray(action_high, dtype=np.float32)),
            goal_observation=bool(goal_observation),
        )
        self.device = self.configurator.device
        low, high = self.configurator.action_low, self.configurator.action_high
        self.input_shapes = self.configurator.input_shapes
        self.hwc_keys = tuple(hwc_keys)
        # Module initialisation and the global-RNG draws inside updates (the latent variable's
        # posterior noise) come from the agent's own stream seeded by config.seed, so a seeded
        # run repeats across processes; the caller's global RNG state is left untouched.
        self._global_rng = (
            torch.Generator().manual_seed(config.seed).get_state(),
            torch.Generator(device=self.device).manual_seed(config.seed).get_state()
            if self.device.type == "cuda" else None,
        )  # fmt: skip
        with self._own_global_rng():
            m = self.configurator.build()
        self.encoder, self.world_model, self.critic, self.policy = m.encoder, m.world_model, m.critic, m.policy
        self.probe, self.task_cost, self.goal_encoder = m.probe, m.task_cost, m.goal_encoder
        self.coarse_model = m.coarse_world_model
        """The coarse level of a hierarchical world model (``AgentConfig.coarse_world_model``), or None."""
        self.cost, self.planner, self.actor = m.cost, m.planner, m.actor
        self.task = config.task
        self.goal_kind = self._goal_kind(self.configurator.objective)
        self.action_low, self.action_high = low, high
        self.action_dim = int(low.shape[0])
        check_practice(config.training.exploration, goal_kind=self.goal_kind, world_model=self.world_model,
                       input_shapes=self.input_shapes)
        if config.training.probe_encoder_weight > 0 and self.probe is None:
            raise ValueError(f"training.probe_encoder_weight={config.training.probe_encoder_weight} trains the encoder "
                             "through the probe, and this agent has none (probe: null, or observations without "
                             f"its key; got keys {sorted(self.input_shapes)}); set it to 0")
        self.coverage: GoalCoverage | None = None
        """Visited cells of the goal space (``agent.coverage.GoalCoverage``), updated with every
        stored episode's ``achieved_goal`` when set (``Run`` sets it for goal envs)."""
        self.collect_actor, self._epistemic = collection_actor(self.configurator, m)
        """The actor training collects with, and the epistemic term of its cost (``configurator.collecting``)."""

        self.replay = ReplayBuffer(config.replay)
        self.generator = torch.Generator(device=self.device).manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.memory: ShortTermMemory | None = None
        self.updates = 0
        self.env_steps = 0
        self._episodes: list[dict[str, list]] = []
        self._last_obs: ObsDict | None = None
        self._last_action: np.ndarray | None = None
        self._last_from_planner = False
        self._acting: Actor | None = None  # the actor that chose the last actions (None: random)
        self._goal_obs: list[ObsDict] | None = None
        self._goal_source: str | None = None  # "given" (reset's goal) or "obs" (read from each observation)
        self.router = Router(self._tensors, self.device)
        """Routes through the replay's landmarks (``task.route``)."""
        self._goal_batch = 0
        self._collection: Collection | None = None
        self._pending_updates = 0.0
        self.between_steps = True
        """False while :meth:`train` is inside a step (a stop there leaves it half done)."""
        self._fault_streak = self._update_streak = 0
        self.faults: dict[str, int] = {}
        """Faults survived while collecting (env errors, unstable simulation, a module that
        raised, non-finite losses), by kind."""
        self.learner = Learner(self)
        """The optimisers and every gradient step (``agent.learning``)."""

    @property
    def has_goal_observation(self) -> bool:
        """Whether the env gives ``goal_observation()`` (else a goal is a ``desired_goal``)."""
        return self.configurator.goal_observation

    def _goal_kind(self, objective: str) -> str:
        """What a goal is for this agent's task (see the class docstring)."""
        if objective == "reward":
            return "none"
        if self.has_goal_observation:
            return "observation"
        if self.configurator.goal_encoder is None:
            raise ValueError(
                f"a {objective!r} task needs the env's goal_observation() or observations with "
                f"achieved_goal and desired_goal (and AgentConfig.goal_encoder), got observation keys "
                f"{sorted(self.input_shapes)}; for a task defined by the reward set task.objective=reward"
            )
        return "desired_goal"

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_config(cls, config: AgentConfig, env: Any) -> Agent:
        """Build an agent for an env (anything with Gymnasium's ``observation_space`` and
        ``action_space``); the spaces are checked first (:func:`agent.spaces.inspect_env`),
        with the entries the encoder's options name."""
        spec = inspect_env(env, reads=EncoderEntries.of(config.encoder))
        return cls(
            config,
            input_shapes=spec.input_shapes,
            action_low=spec.action_low,
            action_high=spec.action_high,
            hwc_keys=spec.hwc_keys,
            goal_observation=spec.has_goal_observation,
        )

    def _modules(self) -> Modules:
        """The modules as they are now (a new task replaces the cost, planner and actor)."""
        return Modules(self.encoder, self.world_model, self.critic, self.policy, self.probe, self.cost,
                       self.planner, self.actor, self.task_cost, self.goal_encoder, self.coarse_model)

    # ------------------------------------------------------------------ the loop
    def _adapt(self, obs: Any, *, batched: bool | None = None) -> ObsDict:
        """An env's observation (or one already adapted: the loops adapt once, then pass the
        dict on to ``act``/``observe``) as the modules' dict, images channels-first, scalar
        entries (B, 1). ``batched``: whether it has a batch axis (the loops say so; None:
        read from its shapes)."""
        return adapt_observation(obs, self.hwc_keys, self.input_shapes, batched=batched)

    def _to_batch(self, obs: Any) -> tuple[ObsDict, bool]:
        """Add a batch axis to a single observation; check every key's shape either way."""
        obs = self._adapt(obs)
        missing = set(self.input_shapes) - set(obs)
        if missing:
            raise ValueError(f"observation must have keys {sorted(self.input_shapes)}, got {sorted(obs)}")
        first = next(iter(self.input_shapes))
        batched = obs[first].shape != self.input_shapes[first]
        lead: tuple[int, ...] = (obs[first].shape[0],) if batched and obs[first].ndim > 0 else ()
        for key, expected in self.input_shapes.items():
            got = obs[key].shape
            if got != (*lead, *expected):
                batch_shape = f"(B, {', '.join(map(str, expected))})"
                raise ValueError(
                    f"observation[{key!r}] must be {expected} or {batch_shape} like the env's "
                    f"observation space, got {got}"
                )
            x = np.asarray(obs[key])
            if x.dtype.kind not in "biuf":
                raise TypeError(f"observation[{key!r}] must hold numbers (float or uint8 images), got dtype {x.dtype}")
            if x.dtype.kind == "f" and not np.isfinite(x).all():
                where = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
                raise ValueError(f"observation[{key!r}] must be finite, got {spell(x[where])} at index {where}")
        if batched and lead[0] == 0:
            raise ValueError(f"observation[{first!r}] is a batch of 0 observations; expected at least one")
        if not batched:
            return {k: v[None] for k, v in obs.items()}, False
        return obs, True

    def _tensors(self, obs: ObsDict) -> dict[str, torch.Tensor]:
        out = {}
        for k, v in obs.items():
            if k not in self.input_shapes:
                continue
            t = torch.as_tensor(v, device=self.device)
            out[k] = t if t.dtype == torch.uint8 else t.float()
        return out

    def reset(
        self,
        task: TaskSpec | None = None,
        *,
        goal: Mapping[str, np.ndarray] | Sequence[Mapping[str, np.ndarray]] | None = None,
    ) -> None:
        """Start an episode: set the goal (or a sequence of subgoals); optionally a new task.

        ``goal`` is the goal observation (the env's ``goal_observation()``), single or batched
        over B envs, or a list of them to visit in order. Tasks without a goal observation
        (a reward task, or a goal env that gives only ``desired_goal``) take ``goal=None``:
        the goal is then read from each observation. A new ``task`` reconfigures the cost
        weights, planner and its budget and the horizon without touching learned weights.
        """
        if task is not None:
            self.task = task
            self.cost, self.planner, self.actor = self.configurator.configure(
                task, world_model=self.world_model, critic=self.critic, policy=self.policy, probe=self.probe
            )
            self.goal_kind = self._goal_kind(self.configurator.objective)
            self.collect_actor, self._epistemic = collection_actor(self.configurator, self._modules())
        self.actor.reset()
        self.collect_actor.reset()
        self.memory = None
        self._episodes = []
        self._last_obs = None
        if goal is None or self.goal_kind != "observation":
            if goal is None and self.goal_kind == "observation":
                raise ValueError(
                    "this task is defined by a goal observation: reset(goal=env.goal_observation()), "
                    "got goal=None (for a task defined by the reward set task.objective=reward)"
                )
            self._goal_obs = None
            self._goal_source, self._goal_batch = "obs", 0  # set from each observation (B known then)
            self.router.forget()
            return
        goals = [goal] if isinstance(goal, Mapping) else list(goal)
        batches = [self._to_batch(g) for g in goals]
        self._goal_obs = [b for b, _ in batches]
        self._goal_source = "given"
        self.router.forget()  # a route to the given goal is found at the first observation
        self.configurator.set_goals([self._tensors(g) for g in self._goal_obs], self.world_model)
        self._start_memory(next(iter(self._goal_obs[0].values())).shape[0])

    def landmarks(self) -> LandmarkGraph | None:
        """The map of the replay's achieved goals that routes follow (``task.route``;
        ``configurator.routes``); None while the replay is empty."""
        if "achieved_goal" not in self.input_shapes:
            raise ValueError(f"task.route needs observations with achieved_goal, got keys {sorted(self.input_shapes)}")
        return self.router.landmarks(self.replay, self.task, self.goal_kind)

    def _route(self, t_obs: Mapping[str, torch.Tensor], point: torch.Tensor,
               final: Mapping[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        """Subgoal levels along each env's route to ``point``, then ``final`` (:meth:`Router.route`)."""
        return self.router.route(self.landmarks(), t_obs, point, final, self.goal_kind)

    def _start_memory(self, B: int) -> None:
        self.memory = ShortTermMemory(
            self.config.memory, batch_size=B, latent_dim=self.world_model.latent_dim,
            action_dim=self.action_dim, device=self.device,
        )
        self._episodes = [new_episode() for _ in range(B)]

    def _goal_from_obs(self, t_obs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The goal of a task without goal observations, from a batch of observations."""
        if self.goal_kind == "desired_goal":
            return {"desired_goal": t_obs["desired_goal"]}
        first = next(iter(t_obs.values()))  # (B, ...)
        return {"batch": first.new_zeros(first.shape[0])}

    @torch.no_grad()
    def act(self, obs: Any, *, mode: str | None = None) -> np.ndarray:
        """Choose actions. Shapes: obs {k: (...)} -> (A,); batched {k: (B, ...)} -> (B, A).

        ``mode``: ``"plan"`` (mode 2), ``"policy"`` (mode 1), ``"random"``, or None for the task's.
        """
        return self._act(obs, mode, self.actor)

    def _act(self, obs: Any, mode: str | None, actor: Actor) -> np.ndarray:
        started = time.perf_counter()  # the actor's deadline_s covers this whole decision
        if self._goal_source is None:
            raise RuntimeError("call reset() (with goal=... for a goal-observation task) before act()")
        batch, batched = self._to_batch(obs)
        t_obs = self._tensors(batch)
        B = next(iter(batch.values())).shape[0]
        if self._goal_source == "obs" and (self.goal_kind == "desired_goal" or self._goal_batch != B):
            # the goal of a desired_goal task is what the env asks for now (it may move); a
            # reward task has none (a zero goal latent)
            goal = self._goal_from_obs(t_obs)
            if self.task.route and self.goal_kind == "desired_goal":
                if self.router.due(goal["desired_goal"], self.task.route_every):
                    self.configurator.set_goals(self._route(t_obs, goal["desired_goal"], goal), self.world_model,
                                                kind=self.goal_kind)
            else:
                self.configurator.set_goals([goal], self.world_model, kind=self.goal_kind)
            self._goal_batch = B
        elif self._goal_source == "given" and self.task.route and self._goal_obs:
            last = self._goal_obs[-1]
            if "achieved_goal" not in last:
                raise ValueError(f"task.route needs goal observations with achieved_goal, got keys {sorted(last)}")
            point = torch.as_tensor(last["achieved_goal"], device=self.device).float()  # (B, G)
            if self.router.due(point, self.task.route_every):
                final = self._tensors(last)
                levels = [self._tensors(g) for g in self._goal_obs[:-1]] + self._route(t_obs, point, final)
                self.configurator.set_goals(levels, self.world_model)
        if self.memory is None or self.memory.batch_size != B:
            self._start_memory(B)
        assert self.memory is not None
        for other in (self.actor, self.collect_actor):  # what they decided last was not this step
            if other is not actor or mode == "random":
                other.executed(None)
        self._acting = None if mode == "random" else actor
        if mode == "random":
            a = self.rng.uniform(self.action_low.cpu().numpy(), self.action_high.cpu().numpy(), (B, self.action_dim))
            action = a.astype(np.float32)
            self._last_from_planner = False
        else:
            s = self.world_model.encode(t_obs)  # (B, D)
            if s.shape != (B, self.world_model.latent_dim):
                raise ValueError(
                    f"the encoder {type(self.encoder).__name__} returned latents of shape {tuple(s.shape)}; the world "
                    f"model, cost and planner were built for (B, D)=({B}, {self.world_model.latent_dim}) (its latent_dim)"
                )
            self.configurator.refresh_goal_latents(self.world_model)
            self.configurator.advance_goals(t_obs, s)
            goal = self.configurator.goal_latent()  # (B, D)
            a_t = actor.act(s, goal, generator=self.generator, mode=mode, started=started)  # (B, A)
            self._check_actions(a_t, actor, mode)
            energy = self.cost.intrinsic(s[:, None], a_t[:, None], goal)[:, 0]  # (B,)
            self.memory.write(s, a_t, energy)
            planned = (mode or actor.mode) == "plan"
            if planned and actor.last_result is not None and actor.last_result.states is not None:
                self.memory.set_plan(actor.last_result.actions, actor.last_result.states)
            subgoals = getattr(actor.planner, "imagined_subgoals", None) if planned else None
            if subgoals is not None:  # a hierarchical plan's coarse latents
                self.memory.set_subgoals(subgoals)
            action = a_t.cpu().numpy()
            self._last_from_planner = planned
        self._last_obs = batch
        self._last_action = action
        return action if batched else action[0]

    def _check_actions(self, a: torch.Tensor, actor: Actor, mode: str | None) -> None:
        """Refuse actions a module returned that are not finite or not within the bounds."""
        for kind, n in actor.planner.take_faults().items():
            self._count_fault(kind, n)
        low, high = self.action_low, self.action_high
        tol = 1e-5 * (1.0 + torch.maximum(low.abs(), high.abs()))  # (A,)
        finite = bool(torch.isfinite(a).all())
        if finite and bool(((a >= low - tol) & (a <= high + tol)).all()):
            return
        source = "policy" if (mode or actor.mode) == "policy" else f"planner {type(actor.planner).__name__}"
        got = "non-finite values" if not finite else f"values from {a.min().item():.4g} to {a.max().item():.4g}"
        raise ValueError(
            f"the {source} returned actions outside the action space: expected finite values within "
            f"low={low.cpu().numpy().round(4).tolist()} and high={high.cpu().numpy().round(4).tolist()}, got {got}"
        )

    def observe(
        self,
        next_obs: Any,
        reward: Any,
        done: Any,
        *,
        action: np.ndarray | None = None,
        terminated: Any = None,
        steps: Any = None,
    ) -> None:
        """Record the transition from the last ``act``; finished episodes go to replay.

        ``done`` (B,) ends an env's episode (terminated or truncated); ``terminated`` (B,),
        default all False, says which of them ended in a terminal state, past which the
        critic bootstraps nothing. ``action`` is what was executed if it differs from
        ``act``'s (exploration noise). ``steps`` (B,) counts the env steps each transition
        took (``TaskSpec.action_repeat``; default 1). The env's reward is stored as the
        cost ``-reward``: the task cost of reward tasks, a log for goal tasks.
        """
        self._observe(next_obs, reward, done, action=action, terminated=terminated, steps=steps)

    def _observe(
        self, next_obs: Any, reward: Any, done: Any, *, action: np.ndarray | None, terminated: Any, steps: Any,
        skip: np.ndarray | None = None,
    ) -> None:
        """:meth:`observe`; the envs ``skip`` (B,) bool had a fault: their episode is stored as
        it was before this step and starts again (their row of ``next_obs`` is the new start)."""
        if self._last_obs is None or self._last_action is None:
            raise RuntimeError("observe() must follow act()")
        nxt, _ = self._to_batch(next_obs)
        B = len(self._episodes)
        # a copy: the caller may reuse its array (the held random actions are updated in place)
        executed = per_env("action", self._last_action if action is None else action, B, np.float32, self.action_dim)
        reward = per_env("reward", reward, B, np.float32)
        done = per_env("done", done, B, bool)
        terminated = np.zeros(B, dtype=bool) if terminated is None else per_env("terminated", terminated, B, bool)
        if next(iter(nxt.values())).shape[0] != B:
            raise ValueError(f"next_obs must hold {B} observations like the last act(), got {next(iter(nxt.values())).shape[0]}")
        self.env_steps += B if steps is None else int(np.sum(steps))
        if action is not None and self._acting is not None:  # noise or held random actions were executed
            self._acting.executed(executed)
        for i, ep in enumerate(self._episodes):
            if skip is not None and skip[i]:
                self._store_episode(i)
                continue
            if not ep["obs"]:
                ep["obs"].append({k: v[i] for k, v in self._last_obs.items()})
            ep["actions"].append(executed[i])
            ep["costs"].append(-reward[i])
            ep["planner"].append(bool(np.broadcast_to(self._last_from_planner, (B,))[i]))
            ep["obs"].append({k: v[i] for k, v in nxt.items()})
            if done[i]:
                self._store_episode(i, terminated=bool(terminated[i]))
        self._last_obs = nxt

    def _store_episode(self, i: int, *, terminated: bool = False) -> None:
        ep = self._episodes[i]
        if ep["actions"]:
            obs = stack_obs(ep["obs"])
            if self.coverage is not None and "achieved_goal" in obs:
                self.coverage.add(obs["achieved_goal"])
            # The replay keeps a goal observation per episode (for hindsight and the critic);
            # tasks without one store the first observation, which only fills the slot.
            goal = {k: v[i] for k, v in self._goal_obs[-1].items()} if self._goal_obs else {
                k: v[0] for k, v in obs.items()
            }
            self.replay.add_episode(
                obs,
                np.stack(ep["actions"]).astype(np.float32),
                np.asarray(ep["costs"], dtype=np.float32),
                goal,
                planner_mask=np.asarray(ep["planner"], dtype=bool),
                terminated=terminated,
            )
        self._episodes[i] = new_episode()

    def restart(self, rows: np.ndarray, goal: Mapping[str, np.ndarray] | None = None) -> None:
        """New episodes in the envs ``rows`` (B,) bool while the others go on: their warm
        starts and short-term memory are dropped and, for a goal-observation task, their goal becomes ``goal``
        (batched over all B envs; only the ``rows`` entries are read)."""
        rows_t = torch.as_tensor(np.asarray(rows, dtype=bool), device=self.device)
        if self.memory is not None and self.memory.batch_size == rows_t.shape[0]:
            self.memory.clear(rows_t)  # this episode's short-term memory starts empty there
        self.actor.reset(rows_t)
        if self.collect_actor is not self.actor:
            self.collect_actor.reset(rows_t)
        if self.goal_kind == "observation":
            if goal is None:
                raise ValueError("restart() of a goal-observation task needs the new goal observations")
            batch, _ = self._to_batch(goal)
            assert self._goal_obs is not None
            for level in self._goal_obs:
                for k in level:
                    level[k] = np.where(rows.reshape(-1, *[1] * (level[k].ndim - 1)), batch[k], level[k])
            self.configurator.replace_goals(rows_t, self._tensors(batch), self.world_model)
            self.router.forget()  # routes from where every env is now, the new goals' included

    # ------------------------------------------------------------------ learning
    @contextlib.contextmanager
    def _own_global_rng(self):
        """Run a block on the agent's own global-RNG stream (CPU, and its CUDA device), then
        restore the caller's: torch.random.fork_rng plus the agent's saved state."""
        cuda = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.set_rng_state(self._global_rng[0])
            if cuda:
                torch.cuda.set_rng_state(self._global_rng[1], cuda[0])
            yield
            self._global_rng = (torch.get_rng_state(), torch.cuda.get_rng_state(cuda[0]) if cuda else None)

    def update(self, batch: Mapping[str, Any] | None = None) -> dict[str, float]:
        """One gradient step of every learning module (:meth:`Learner.update`)."""
        return self.learner.update(batch)

    def update_critic(self) -> dict[str, float]:
        """One gradient step of the critic alone (:meth:`Learner.update_critic`)."""
        return self.learner.update_critic()

    def refit_predictor(self, updates: int, lr: float = 3e-4) -> dict[str, float]:
        """Refit the world model's predictor alone (:meth:`Learner.refit_predictor`)."""
        return self.learner.refit_predictor(updates, lr)

    def new_critic(self, spec: Any, task: TaskSpec | None = None) -> None:
        """A fresh critic with its own optimiser (:meth:`Learner.new_critic`)."""
        self.learner.new_critic(spec, task)

    def update_coarse(self) -> dict[str, float]:
        """One gradient step of the coarse world model alone (:meth:`Learner.update_coarse`)."""
        return self.learner.update_coarse()

    def new_coarse_model(self, spec: Any) -> None:
        """A fresh coarse world model with its own optimiser (:meth:`Learner.new_coarse_model`)."""
        self.learner.new_coarse_model(spec)

    def distribute(self) -> None:
        """Train data-parallel with the process group's other ranks (:meth:`Learner.distribute`)."""
        self.learner.distribute()

    # ------------------------------------------------------------------ loops
    # The loops sit above the agent (agent/loops.py); these forward to them.
    def train(
        self, env: Any, steps: int, *, callback: Callback | None = None, stop: Callable[[], bool] | None = None
    ) -> dict[str, list]:
        """:func:`agent.loops.train`: collect ``steps`` env steps on ``env`` (one env, a list
        or a ``VectorEnv``) and learn from them; returns the episodes and updates."""
        from jepa_agent.agent.loops import train

        return train(self, env, steps, callback=callback, stop=stop)

    def collect(self, env: Any, steps: int, **options: Any) -> list[dict[str, Any]]:
        """:func:`agent.loops.collect`: run a policy into the replay buffer, learning nothing
        (``policy=``, ``exploration_std=``, ``seed=``, ``callback=``)."""
        from jepa_agent.agent.loops import collect

        return collect(self, env, steps, **options)

    @property
    def exploring_randomly(self) -> bool:
        """Whether training still acts at random (:func:`agent.loops.exploring_randomly`)."""
        from jepa_agent.agent.loops import exploring_randomly

        return exploring_randomly(self)

    def _count_fault(self, kind: str, n: int = 1) -> None:
        self.faults[kind] = self.faults.get(kind, 0) + n

    def adapt(self, n: int = 10_000, *, replay: ReplayBuffer | None = None) -> None:
        """Fit the modules' data-dependent settings to the replay, once, before the first
        update (:meth:`Learner.adapt`)."""
        self.learner.adapt(n, replay=replay)

    def evaluate(self, env: Any, episodes: int, **options: Any) -> dict[str, Any]:
        """:func:`agent.loops.evaluate` on this agent: ``episodes`` held-out episodes
        (``seed=``, ``mode=``, ``reset_options=``, ``on_step=``, ``callback=``)."""
        from jepa_agent.agent.loops import evaluate

        return evaluate(self, env, episodes, **options)

    @torch.no_grad()
    def diagnostics(self, n: int = 2048) -> dict[str, float]:
        """Collapse diagnostics of the online encoder on replayed observations; empty while
        no episode has ended (a budget shorter than the env's episodes)."""
        from jepa_agent.world_model import embedding_diagnostics

        if self.replay.num_episodes == 0:
            return {}
        batch = to_torch(self.replay.sample(n, 1, rng=np.random.default_rng(0)), self.device)
        obs = {k: v[:, 0] for k, v in batch["obs"].items()}
        return embedding_diagnostics(self.world_model.encode(obs))

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "config": self.config.model_dump(mode="json"),
            "input_shapes": {k: list(v) for k, v in self.input_shapes.items()},
            "action_low": self.action_low.cpu().numpy().tolist(),
            "action_high": self.action_high.cpu().numpy().tolist(),
            "world_model": self.world_model.state_dict(),
            "critic": None if self.critic is None else self.critic.state_dict(),
            "critic_target": None if self.critic is None else self.critic._target().state_dict(),
            "policy": None if self.policy is None else self.policy.state_dict(),
            "probe": None if self.probe is None else self.probe.state_dict(),
            "task_cost": None if self.task_cost is None else self.task_cost.state_dict(),
            "goal_encoder": None if self.goal_encoder is None else self.goal_encoder.state_dict(),
            "coarse_world_model": None if self.coarse_model is None else self.coarse_model.state_dict(),
            "hwc_keys": list(self.hwc_keys),
            "goal_observation": self.has_goal_observation,
            "optimizers": self.learner.state_dict(),
            "updates": self.updates,
            "env_steps": self.env_steps,
        }

    def save(self, path: str | Path, *, resume: bool = False) -> Path:
        """Write a checkpoint atomically (temp file in the same folder, fsync, rename).

        ``resume=True`` also writes what continuing training needs besides the weights:
        the replay buffer and the running episodes (the envs' simulator and RNG states, the
        short-term memory, warm starts, goals) to ``<stem>.resume/`` next to ``path``, and
        the RNG streams and counters into the checkpoint. Those files are written first and
        the checkpoint last, so until its rename the previous checkpoint and the files it
        names stay whole; the files no checkpoint names any more are removed after it.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = self.state_dict()
        state["provenance"] = provenance(self.device)
        folder = path.parent / f"{path.stem}.resume"
        if resume:
            folder.mkdir(exist_ok=True)
            tag = f"{self.env_steps:010d}-{uuid.uuid4().hex[:8]}"
            replay, loop = folder / f"{tag}.replay.npz", folder / f"{tag}.loop.safetensors"
            self.replay.save(replay)
            write_file(loop, loop_state(self), kind="resume state")
            state["training"] = training_state(self)
            state["resume"] = {"replay": replay.relative_to(path.parent).as_posix(),
                               "loop": loop.relative_to(path.parent).as_posix()}
        write_file(path, state)
        if folder.is_dir():
            keep = {folder / Path(v).name for v in state.get("resume", {}).values()}
            for stale in folder.iterdir():
                if stale not in keep and stale.name.endswith((".replay.npz", ".loop.safetensors", ".loop.pt")):
                    stale.unlink(missing_ok=True)
        return path

    @property
    def envs(self) -> Any:
        """The envs of the running episodes as they were given (a resumed agent's: a vector
        env rebuilt from the checkpoint); ``agent.train(agent.envs, steps)`` continues them.
        None before any training or collection."""
        return None if self._collection is None else self._collection.steps.sources

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None, resume: bool = False,
             world_model_options: Mapping[str, Any] | None = None, trust_code: bool = False) -> Agent:
        """Rebuild an agent from :meth:`save`'s checkpoint (optionally on another device).

        Opening a checkpoint reads JSON and tensor bytes, nothing else (``agent.checkpoint``);
        one whose config names code to call (a frozen encoder's ``factory``, or its
        ``trust_code``) is refused unless ``trust_code=True`` says you trust where it came from.

        ``world_model_options`` replace some of the world model's options: those that change
        what it computes from the same weights (``ensemble_mix`` of the JEPA model); one that
        changes a weight's shape is refused when the weights are loaded.

        ``resume=True`` also restores the replay buffer, the RNG streams, the counters and
        the running episodes of a checkpoint saved with ``resume=True`` (their envs are
        rebuilt from the config: :attr:`envs`), so ``agent.train(agent.envs, M)`` continues
        training as if it had never stopped (bit for bit on CPU with the same threads).
        """
        path = Path(path)
        state = read_checkpoint(path)
        agent = restore_agent(cls, state, path, device=device, trust_code=trust_code,
                                world_model_options=world_model_options)
        if resume:
            resume_training(agent, state, path)
        return agent

    def save_pretrained(self, folder: str | Path, *, eval_result: Mapping[str, Any] | str | Path | None = None,
                        model_id: str | None = None) -> Path:
        """Write a shareable model folder: ``config.json``, ``model.safetensors``, the
        ``eval.json`` it was measured with (``eval_result``: a dict or a path) and a model card
        ``README.md``, in the layout the Hugging Face Hub expects (``agent.pretrained``)."""
        return save_pretrained(self, folder, eval_result=eval_result, model_id=model_id)

    @classmethod
    def from_pretrained(cls, folder_or_id: str | Path, *, device: str | None = None, trust_code: bool = False,
                        revision: str | None = None,
                        world_model_options: Mapping[str, Any] | None = None) -> Agent:
        """The agent :meth:`save_pretrained` wrote to a local folder, or a Hub id's (``owner/name``,
        downloaded with huggingface_hub only when no such local folder exists), ready to act;
        its optimisers start afresh. ``trust_code`` as in :meth:`load`."""
        state, folder = load_pretrained_state(folder_or_id, revision=revision)
        return restore_agent(cls, state, folder, device=device, trust_code=trust_code,
                               world_model_options=world_model_options)
