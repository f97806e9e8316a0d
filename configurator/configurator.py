"""The configurator: builds modules from configs and reconfigures them online.

It owns the goal: the goal observation (or a sequence of subgoal observations) is encoded
by the world model's target encoder into the goal latent the cost compares predictions
with, and the next subgoal takes over when the current one is reached.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from jepa_agent.actor import Actor, HierarchicalConfig, Planner, Policy
from jepa_agent.configurator.config import AgentConfig, ModuleSpec, TaskSpec
from jepa_agent.configurator.resolve import Facts, resolve
from jepa_agent.cost import (
    Cost,
    CostConfig,
    Critic,
    LatentGoalDistance,
    Probe,
    ProbeGoalDistance,
    TaskCost,
)
from jepa_agent.perception import Encoder, GoalEncoder
from jepa_agent.world_model import WorldModel

log = logging.getLogger(__name__)


@dataclass
class Modules:
    """The agent's modules, as built from an :class:`AgentConfig`."""

    encoder: Encoder
    world_model: WorldModel
    critic: Critic | None
    policy: Policy | None
    probe: Probe | None
    cost: Cost
    planner: Planner
    actor: Actor
    task_cost: TaskCost | None = None
    goal_encoder: GoalEncoder | None = None
    coarse_world_model: WorldModel | None = None


GOAL_KINDS = ("observation", "desired_goal", "none")
"""How a goal is given: a goal observation (encoded by the target encoder), a
``desired_goal`` vector (encoded by the goal encoder), or none (a reward task)."""


def observation_shapes(space: Any) -> dict[str, tuple[int, ...]]:
    """``{key: shape}`` of a Gymnasium Dict or Box space (a flat Box is ``"observation"``)."""
    spaces = getattr(space, "spaces", None)
    if isinstance(spaces, Mapping):
        return {k: tuple(v.shape) for k, v in spaces.items()}
    if getattr(space, "shape", None) is None:
        raise ValueError(f"observation space must be a Dict or Box space, got {space!r}")
    return {"observation": tuple(space.shape)}


def action_bounds(space: Any, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Finite (low, high) of a 1-D Box action space; anything else is refused clearly."""
    low, high, shape = getattr(space, "low", None), getattr(space, "high", None), getattr(space, "shape", None)
    if low is None or high is None or shape is None or len(shape) != 1:
        raise ValueError(f"planners need a 1-D continuous Box action space (A,), got {space!r}")
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValueError(f"planners need finite action bounds, got low={low} high={high}")
    as_t = lambda x: torch.as_tensor(np.asarray(x, dtype=np.float32), device=device)  # noqa: E731
    return as_t(low), as_t(high)


class Configurator:
    """Turns an :class:`AgentConfig` and the env's spaces into modules; keeps the goals.

    Every ``auto`` of the config is resolved once, here, from the env's facts
    (:func:`configurator.resolve.resolve`): :attr:`config` is the config with concrete values,
    which every module is built from; :attr:`given` is the config as it came. ``device``
    (None: the config's, resolved) places every module.
    """

    def __init__(
        self,
        config: AgentConfig,
        *,
        input_shapes: Mapping[str, Sequence[int]],
        action_low: torch.Tensor,
        action_high: torch.Tensor,
        device: torch.device | None = None,
        goal_observation: bool = True,
        cuda_available: bool | None = None,
    ) -> None:
        self.input_shapes = {k: tuple(v) for k, v in input_shapes.items()}
        self.goal_observation = goal_observation  # without the env's goal_observation() a goal is a desired_goal
        self.facts = Facts.of(self.input_shapes, goal_observation=goal_observation, cuda_available=cuda_available)
        """What the config's autos were resolved from."""
        self.given = config
        """The config as given (autos kept); its task is the one configured last."""
        self.config = resolve(config, self.facts)
        """The config with every auto resolved: what the modules are built from."""
        if device is not None:  # the caller places the modules
            self.config = self.config.model_copy(update={"device": str(device)})
        self.task = self.config.task
        self.device = torch.device(self.config.device)
        self.action_low, self.action_high = action_low.to(self.device), action_high.to(self.device)
        self.action_dim = int(self.action_low.shape[0])
        self.objective = self.task.objective
        """``goal``, ``reward`` or ``both``: the objective of the task configured last."""
        self._goal_obs: list[dict[str, torch.Tensor]] = []
        self._goal_kind = "observation"
        self._goal_latents: torch.Tensor | None = None  # (L, B, D)
        self._goal_index: torch.Tensor | None = None  # (B,)
        self.goal_encoder: GoalEncoder | None = None
        self.task_cost: TaskCost | None = None
        self.coarse_world_model: WorldModel | None = None

    # ------------------------------------------------------------------ building
    def build(self) -> Modules:
        cfg, dev = self.config, self.device
        enc_cls, enc_cfg = cfg.encoder.resolve("encoder")
        encoder = enc_cls(enc_cfg, input_shapes=self.input_shapes, device=dev)
        wm_cls, wm_cfg = cfg.world_model.resolve("world_model")
        world_model = wm_cls(wm_cfg, encoder=encoder, action_dim=self.action_dim, device=dev)
        self.coarse_world_model = None
        if cfg.coarse_world_model is not None:
            self.coarse_world_model = self.build_coarse(cfg.coarse_world_model, world_model)
        critic = None if cfg.critic is None else self._critic(cfg.critic, encoder.latent_dim)
        if self.objective in ("reward", "both"):
            tc_cls, tc_cfg = cfg.task_cost.resolve("task_cost")
            self.task_cost = tc_cls(tc_cfg, latent_dim=encoder.latent_dim, action_dim=self.action_dim, device=dev)
        if cfg.goal_encoder is not None and {"achieved_goal", "desired_goal"} <= set(self.input_shapes):
            ge_cls, ge_cfg = cfg.goal_encoder.resolve("goal_encoder")
            self.goal_encoder = ge_cls(
                ge_cfg, goal_dim=int(np.prod(self.input_shapes["desired_goal"])),
                latent_dim=encoder.latent_dim, device=dev,
            )
        policy = None
        if cfg.policy is not None:
            po_cls, po_cfg = cfg.policy.resolve("policy")
            policy = po_cls(
                po_cfg, latent_dim=encoder.latent_dim, action_low=self.action_low,
                action_high=self.action_high, device=dev,
            )
        probe = None
        if cfg.probe is not None:
            pr_cls, pr_cfg = cfg.probe.resolve("probe")
            key = getattr(pr_cfg, "key", "achieved_goal")
            if key in self.input_shapes:
                probe = pr_cls(
                    pr_cfg, latent_dim=encoder.latent_dim, target_dim=int(np.prod(self.input_shapes[key])),
                    device=dev,
                )
        cost, planner, actor = self._configure(
            cfg.task, world_model=world_model, critic=critic, policy=policy, probe=probe
        )
        return Modules(
            encoder, world_model, critic, policy, probe, cost, planner, actor, self.task_cost, self.goal_encoder,
            self.coarse_world_model,
        )

    def build_critic(self, spec: ModuleSpec, latent_dim: int) -> Critic:
        """A critic from its spec (``AgentConfig.critic``) on latents of ``latent_dim``, its
        options resolved for the task configured last."""
        given = self.given.model_copy(update={"critic": spec})
        resolved = resolve(given, self.facts).critic
        assert resolved is not None
        critic = self._critic(resolved, latent_dim)
        self.given, self.config = given, self.config.model_copy(update={"critic": resolved})
        return critic

    def _critic(self, spec: ModuleSpec, latent_dim: int) -> Critic:
        """A critic from a resolved spec."""
        cls, cfg = spec.resolve("critic")
        bounds = {"action_low": self.action_low, "action_high": self.action_high} if cls.takes_actions else {}
        return cls(cfg, latent_dim=latent_dim, device=self.device, **bounds)

    def build_coarse(self, spec: ModuleSpec, world_model: WorldModel) -> WorldModel:
        """The coarse level of ``world_model`` from its spec (``AgentConfig.coarse_world_model``):
        in the same latent space, with the same output normalisation; it becomes the one the
        hierarchical planner is composed with."""
        cls, cfg = spec.resolve("coarse_world_model")
        self.given = self.given.model_copy(update={"coarse_world_model": spec})
        self.config = self.config.model_copy(update={"coarse_world_model": spec})  # nothing in it to resolve
        self.coarse_world_model = cls(
            cfg, latent_dim=world_model.latent_dim, primitive_dim=self.action_dim,
            normalize=bool(getattr(world_model, "normalize", True)), device=self.device,
        )
        return self.coarse_world_model

    def configure(
        self,
        task: TaskSpec,
        *,
        world_model: WorldModel,
        critic: Critic | None,
        policy: Policy | None,
        probe: Probe | None = None,
    ) -> tuple[Cost, Planner, Actor]:
        """Build the task-dependent modules: the cost (weights), planner (budget) and actor.

        Called by ``Agent.reset(task)`` to reconfigure online; ``task``'s autos are resolved
        as the first task's were (:func:`configurator.resolve.resolve`).
        """
        given = self.given.model_copy(update={"task": task})
        resolved = resolve(given, self.facts)
        built = self._configure(resolved.task, world_model=world_model, critic=critic, policy=policy, probe=probe)
        self.given = given
        self.config = self.config.model_copy(update={"task": resolved.task, "training": resolved.training})
        return built

    def _configure(
        self,
        task: TaskSpec,
        *,
        world_model: WorldModel,
        critic: Critic | None,
        policy: Policy | None,
        probe: Probe | None = None,
    ) -> tuple[Cost, Planner, Actor]:
        """:meth:`configure` for a resolved task."""
        if critic is not None and abs(getattr(critic, "gamma", task.cost.gamma) - task.cost.gamma) > 1e-9:
            log.warning(
                "critic gamma %.3f differs from cost gamma %.3f; the critic's values will be "
                "mis-scaled at the end of the horizon", critic.gamma, task.cost.gamma,
            )
        objective = task.objective
        if objective in ("reward", "both") and self.task_cost is None:
            raise ValueError(
                f"task objective {objective!r} needs a task cost, but the agent was built for the "
                f"{self.objective!r} objective: build a new agent for a reward-defined task"
            )
        self.objective = objective
        self.task = task
        """The task configured last (its subgoal thresholds switch subgoals)."""
        cost = self.build_cost(task.cost, world_model=world_model, critic=critic, probe=probe)
        planner = self.build_planner(task.planner, coarse_model=self.coarse_world_model, critic=critic,
                                     cost=task.cost, objective=objective, probe=probe)
        actor = Actor(
            task.actor, planner=planner, world_model=world_model, cost=cost,
            action_low=self.action_low, action_high=self.action_high, policy=policy,
            critic_policy=None if critic is None else critic.greedy_policy,
        )
        return cost, planner, actor

    def build_cost(
        self, config: CostConfig, *, world_model: WorldModel, critic: Critic | None, probe: Probe | None = None,
    ) -> Cost:
        """The cost of a resolved ``config`` (its ``goal_space`` concrete) for the objective
        configured last (``configure`` builds the task's; training's collection may build its own)."""
        return Cost.from_config(
            config, critic=critic, probe=probe, task_cost=self.task_cost,
            goal=self.objective in ("goal", "both"), reward=self.objective in ("reward", "both"),
            disagreement=world_model.disagreement if getattr(world_model, "ensemble", None) is not None else None,
        )

    @staticmethod
    def build_planner(
        spec: ModuleSpec, *, coarse_model: WorldModel | None = None, critic: Critic | None = None,
        cost: CostConfig | None = None, objective: str = "goal", probe: Probe | None = None,
    ) -> Planner:
        """A planner from its spec. The hierarchical one is composed here: its two planners,
        the coarse world model, and the coarse cost (the goal energy weighted and discounted
        as K primitive steps per coarse step, the ``probe``'s achieved-goal distance likewise
        where ``cost.probe_weight`` > 0, plus the ``critic``)."""
        cls, cfg = spec.resolve("planner")
        if not isinstance(cfg, HierarchicalConfig):
            return cls(cfg)
        coarse = coarse_model
        if coarse is None:
            raise ValueError("the hierarchical planner needs the coarse level of the world model: set "
                             "coarse_world_model (e.g. {name: jepa, options: {k: 5}}), got none")
        if objective == "reward":
            raise ValueError("the hierarchical planner sets subgoals toward a goal: it needs a goal task, "
                             "this one is defined by the reward (task.objective)")
        c = cost or CostConfig()
        k = int(coarse.k)
        chunk = sum(c.gamma**i for i in range(k))  # the goal energy of K primitive steps
        terms: list[tuple[Any, float]] = [(LatentGoalDistance(c.goal_norm), c.goal_weight * chunk)]
        if c.probe_weight > 0 and probe is not None:  # the probe's position term, as on the fine level
            terms.append((ProbeGoalDistance(probe), c.probe_weight * chunk))
        coarse_cost = Cost(terms, critic=critic, critic_weight=c.critic_weight, gamma=c.gamma**k)
        high = Configurator.build_planner(ModuleSpec(**cfg.high))
        low = Configurator.build_planner(ModuleSpec(**cfg.low))
        return cls(cfg, high=high, low=low, coarse_model=coarse, coarse_cost=coarse_cost)

    # ------------------------------------------------------------------ goals
    def set_goals(
        self,
        goals: Sequence[Mapping[str, torch.Tensor]],
        world_model: WorldModel,
        *,
        kind: str = "observation",
    ) -> torch.Tensor:
        """Set a sequence of L (sub)goals, each batched over B envs.

        ``kind`` says what a goal is (:data:`GOAL_KINDS`): a goal ``observation`` dict, a
        ``{"desired_goal": (B, G)}`` dict, or ``none`` (``{"batch": (B,)}``: a reward task,
        whose goal latent is zero).

        Shapes: goals[l] {key: (B, ...)} -> the first goal latent (B, D).
        """
        if not goals:
            raise ValueError("set_goals needs at least one goal observation, got none")
        if kind not in GOAL_KINDS:
            raise ValueError(f"goal kind must be one of {', '.join(GOAL_KINDS)}, got {kind!r}")
        if kind == "desired_goal" and self.goal_encoder is None:
            raise ValueError(
                "a goal given as desired_goal needs a goal encoder (AgentConfig.goal_encoder) and "
                f"observations with achieved_goal and desired_goal, got keys {sorted(self.input_shapes)}"
            )
        self._goal_kind = kind
        self._goal_obs = [dict(g) for g in goals]
        self.refresh_goal_latents(world_model)
        B = self._goal_latents.shape[1]
        self._goal_index = torch.zeros(B, dtype=torch.long, device=self.device)
        return self.goal_latent()

    def replace_goals(self, rows: torch.Tensor, goal: Mapping[str, torch.Tensor], world_model: WorldModel) -> None:
        """New episodes in some envs: their goal (every subgoal level) becomes ``goal``.

        Shapes: rows (B,) bool, goal {key: (B, ...)} (only the ``rows`` entries are read).
        """
        for level in self._goal_obs:
            for k, v in level.items():
                level[k] = torch.where(rows.reshape(-1, *[1] * (v.ndim - 1)), goal[k], v)
        self.refresh_goal_latents(world_model)
        if self._goal_index is not None:
            self._goal_index = torch.where(rows, torch.zeros_like(self._goal_index), self._goal_index)

    def _encode_goal(self, goal: Mapping[str, torch.Tensor], world_model: WorldModel) -> torch.Tensor:
        if self._goal_kind == "observation":
            return world_model.encode_target(goal)
        if self._goal_kind == "desired_goal":
            assert self.goal_encoder is not None
            return self.goal_encoder(goal["desired_goal"].float())
        B = goal["batch"].shape[0]
        return torch.zeros(B, world_model.latent_dim, device=self.device)

    @staticmethod
    @torch.no_grad()
    def frontier(
        states: torch.Tensor, world_model: WorldModel, n: int, *, generator: torch.Generator | None = None,
        action_low: torch.Tensor, action_high: torch.Tensor, actions: int = 4,
    ) -> torch.Tensor:
        """Practice goals at the frontier (LEXA's achiever): of candidate ``states`` (C, D) the
        agent has visited, the ``n`` where its world model is least certain (the ensemble's
        disagreement under ``actions`` random actions, averaged). Returns their indices (n,)."""
        C = states.shape[0]
        u = torch.rand(C, actions, action_low.shape[0], generator=generator, device=states.device)
        a = action_low + (action_high - action_low) * u  # (C, K, A)
        score = world_model.disagreement(states[:, None].expand(-1, actions, -1), a).mean(1)  # (C,)
        return score.topk(min(n, C)).indices

    @staticmethod
    def sparsest(visits: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """Practice goals where the data is thinnest: of C candidates whose goal-space cells
        were visited ``visits`` (C,) times, the indices of the ``n`` in the least-visited cells
        (ties broken at random)."""
        score = -np.asarray(visits, dtype=np.float64) + rng.random(len(visits))
        return np.argsort(-score)[:n]

    @staticmethod
    def achiever(visits: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """Practice goals spread over what was found (LEXA's achiever): indices of ``n`` of C
        candidates whose cells have ``visits`` (C,), each drawn with probability 1 / (visits of
        its cell). A replayed candidate lies in a cell in proportion to that cell's visits, so
        every visited cell is drawn about equally often."""
        weight = 1.0 / np.maximum(np.asarray(visits, dtype=np.float64), 1.0)
        return rng.choice(len(weight), size=n, replace=n > len(weight), p=weight / weight.sum())

    def goal_state(self) -> dict[str, Any]:
        """The goals set now (observations, latents, each env's current subgoal): saved with
        a resumable checkpoint so a resumed episode goes on toward the same goal."""
        return {"kind": self._goal_kind, "obs": self._goal_obs, "latents": self._goal_latents, "index": self._goal_index}

    def load_goal_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`goal_state`'s result."""
        self._goal_kind, self._goal_obs = state["kind"], state["obs"]
        self._goal_latents, self._goal_index = state["latents"], state["index"]

    def refresh_goal_latents(self, world_model: WorldModel) -> None:
        """Re-encode the goals (the target encoder moves while the agent learns)."""
        if self._goal_obs:
            with torch.no_grad():
                self._goal_latents = torch.stack([self._encode_goal(g, world_model) for g in self._goal_obs])

    def goal_latent(self) -> torch.Tensor:
        """The current (sub)goal latent of each env. Shapes: -> (B, D)."""
        if self._goal_latents is None or self._goal_index is None:
            raise RuntimeError("no goal set: call set_goals (Agent.reset does) before acting")
        B = self._goal_latents.shape[1]
        return self._goal_latents[self._goal_index, torch.arange(B, device=self.device)]

    @property
    def goal_index(self) -> torch.Tensor | None:
        """Index of each env's current subgoal (B,)."""
        return self._goal_index

    def advance_goals(self, obs: Mapping[str, torch.Tensor], s: torch.Tensor) -> None:
        """Switch each env whose current subgoal is reached to its next subgoal.

        Reached means ``|achieved_goal - subgoal's achieved_goal| < subgoal_threshold`` when
        observations carry ``achieved_goal``, else latent distance < ``subgoal_latent_threshold``.
        """
        if self._goal_index is None or len(self._goal_obs) < 2:
            return
        task = self.task
        idx = self._goal_index
        B = idx.shape[0]
        goal_key = "desired_goal" if self._goal_kind == "desired_goal" else "achieved_goal"
        if "achieved_goal" in obs and goal_key in self._goal_obs[0]:
            targets = torch.stack([g[goal_key] for g in self._goal_obs])[idx, torch.arange(B)]
            reached = (obs["achieved_goal"] - targets).norm(dim=-1) < task.subgoal_threshold
        else:
            reached = (s - self.goal_latent()).norm(dim=-1) < task.subgoal_latent_threshold
        last = len(self._goal_obs) - 1
        self._goal_index = torch.where(reached & (idx < last), idx + 1, idx)
