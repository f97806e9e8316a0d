"""Configs that describe a whole agent and a task; YAML/JSON round-trips."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

from jepa_agent.actor import ActorConfig
from jepa_agent.configurator.builtins import REGISTRIES
from jepa_agent.configurator.registry import config_class_of, validate_options
from jepa_agent.cost import CostConfig
from jepa_agent.memory import ReplayBufferConfig, ShortTermMemoryConfig


class ModuleSpec(BaseModel):
    """A module chosen by built-in name or ``"package.module:Class"``, with its config options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Registered name (``cem``) or import path (``my_lab.planners:Annealed``)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Fields of the module's own config model; validated before anything is built."""

    def resolve(self, kind: str) -> tuple[type, BaseModel]:
        """The class and its validated config."""
        cls = REGISTRIES[kind].resolve(self.name)
        return cls, validate_options(config_class_of(cls), self.options, f"{kind} '{self.name}'")


Objective = Literal["auto", "goal", "reward", "both"]


class TaskSpec(BaseModel):
    """What to do: the environment, the cost weights, the planner and its budget, the horizon."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str = "jepa_agent/Reach2D-v0"
    """Gymnasium id of any env with a bounded Box action space: a goal env (a dict
    observation with ``desired_goal``, with or without ``goal_observation()``), or one defined
    by its reward (Gymnasium's MuJoCo suite). ``some_module:SomeEnv-v0`` imports
    ``some_module`` (which registers the env) first, as ``gymnasium.make`` does."""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments for ``gymnasium.make``."""
    objective: Objective = "auto"
    """What defines the task: ``goal`` (the latent goal energy), ``reward`` (the env's reward,
    as a learned task cost), ``both`` (weighted by ``cost.goal_weight`` and
    ``cost.reward_weight``). ``auto``: a goal task when the observation has a
    ``desired_goal``, else a reward task."""
    action_repeat: PositiveInt = 1
    """Each action the agent chooses is applied this many env steps (DeepMind Control papers
    use 2); rewards are summed. Env steps are counted as the env's own steps."""
    success: Literal["final", "any"] = "final"
    """When an episode counts as a success: ``info["is_success"]`` (or ``info["success"]``) at
    its final step (Gymnasium-Robotics), or at any step (suites that stop at the first
    success). Evaluation reports both; this one is ``success_rate``."""
    cost: CostConfig = CostConfig()
    """Weights of the intrinsic terms and the critic."""
    planner: ModuleSpec = ModuleSpec(name="cem")
    """Planner and its budget (samples, iterations, ...)."""
    actor: ActorConfig = ActorConfig()
    """Horizon, mode 1 / mode 2, policy proposals, deadline."""
    subgoal_threshold: PositiveFloat = 0.02
    """A subgoal counts as reached when the achieved goal is this close (env units), or, for
    observations without ``achieved_goal``, when the latent distance is below
    ``subgoal_latent_threshold``."""
    subgoal_latent_threshold: PositiveFloat = 0.5
    """Latent-distance criterion for subgoals when no ``achieved_goal`` is observed."""
    route: bool = False
    """Find the way in memory first: at each new goal, the shortest way between landmarks of
    the replayed achieved goals (``memory.LandmarkGraph``: passages the stored episodes took,
    so it goes round walls) becomes a sequence of subgoals, each handed to the planner in turn
    (reached within ``subgoal_threshold``), the goal last. Needs observations with
    ``achieved_goal``."""
    route_every: PositiveInt | None = None
    """Steps between new routes from where the agent is then (a new goal always gets one at
    once): the next landmark is then always the one after the nearest, however the last one
    was passed, missed or overshot. None: only at a new goal (each landmark is handed on when
    reached)."""
    route_spacing: PositiveFloat = 0.5
    """Landmarks of the route lie no farther than this from every replayed achieved goal (env
    units). Keep it below the thickness of a wall (a maze cell is 1 m): a region wider than a
    wall joins its two sides."""

    @model_validator(mode="after")
    def _check_planner(self) -> TaskSpec:
        self.planner.resolve("planner")
        return self


MOVED_TO_EXPLORATION = {
    "exploration_std": "std",
    "random_action_repeat": "random_repeat",
    "collect_planner": "planner",
    "collect_cost": "cost",
    "epistemic_weight": "epistemic_weight",
    "epistemic_decay_steps": "epistemic_decay_steps",
    "practice_goals": "practice_goals",
    "practice_candidates": "practice_candidates",
    "practice_explore": "practice_explore",
    "practice_frontier": "practice_frontier",
    "practice_achieve": "practice_achieve",
}
"""Keys of ``training`` that moved to ``training.exploration`` (old name -> new name); configs,
overrides and checkpoints that use the old names still load, with a DeprecationWarning."""


class ExplorationConfig(BaseModel):
    """How the agent explores while it collects its training data: noise on the planner's
    actions, held random actions, the collection planner and its cost, the epistemic term, and
    the practice goals the agent sets itself (``configurator.collecting``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    std: float = Field(0.2, ge=0.0)
    """Gaussian noise added to the planner's actions while collecting (fraction of half-range)."""
    random_repeat: PositiveInt = 5
    """Random exploration holds each action this many steps (covers more of the workspace)."""
    planner: ModuleSpec | None = ModuleSpec(name="cem", options={"samples": 128, "iterations": 2})
    """Planner (and budget) used while collecting training data; None: the task's planner.
    Collection plans for all envs at once, so a smaller budget here buys many more steps."""
    cost: dict[str, Any] = Field(default_factory=dict)
    """Fields of ``task.cost`` replaced while collecting training data (e.g. ``{effort_weight:
    0.01}`` under a task whose effort weight is 0.1); empty: the task's cost. For an agent that
    should act damped but explore freely: on the far-goal arm a 10x effort weight in the
    collection planner too explored and reached less (README, exploration). The critic learns
    the task's cost."""
    epistemic_weight: float = 0.0
    """Weight of the world model's ensemble disagreement in the *collection* planner's cost
    (expected free energy = the task's cost + this epistemic term): negative seeks what the
    model does not know. Needs the world model option ``ensemble_heads`` >= 2; 0: off."""
    epistemic_decay_steps: NonNegativeInt = 0
    """Env steps over which ``epistemic_weight`` falls linearly to 0 (0: it stays)."""
    practice_goals: float = Field(0.0, ge=0.0, le=1.0)
    """Fraction of the planner's collection episodes whose goal the agent sets itself: the
    stored observation, of ``practice_candidates`` drawn from the replay, at the frontier
    (``practice_frontier``), LEXA's achiever. A goal-observation task pursues that
    observation; a goal env (``desired_goal``) its ``achieved_goal``. 0: off."""
    practice_candidates: PositiveInt = 256
    """Replayed observations scored for each practice goal."""
    practice_explore: bool = False
    """Go-Explore's return-then-explore: once a practising episode's achieved goal is within
    ``task.subgoal_threshold`` of its practice goal, the rest of the episode takes random
    actions (held ``random_repeat`` steps) from there, past the frontier (an
    achiever's goal, ``practice_achieve``, too: exploring from anywhere visited covered more
    and reached more goals than holding the goal, on the far-goal arm)."""
    practice_frontier: Literal["disagreement", "sparse"] = "disagreement"
    """Where practice goals are: ``disagreement``, where the world model's ensemble
    disagrees most (needs ``ensemble_heads`` >= 2); ``sparse``, in the goal-space cells the
    stored data has visited least (``agent.coverage``; needs observations with
    ``achieved_goal``)."""
    practice_achieve: float = Field(0.0, ge=0.0, le=1.0)
    """Fraction of practice goals drawn evenly over the goal-space cells the stored data has
    visited (LEXA's achiever: practise reaching what was found, a thinly visited far cell as
    often as the start's) instead of at ``practice_frontier`` (its explorer). Needs
    observations with ``achieved_goal``. 0: every practice goal is at the frontier."""

    def collecting(self, cost: CostConfig) -> CostConfig:
        """The collection planner's cost: the task's ``cost`` with ``self.cost`` replaced."""
        unknown = sorted(set(self.cost) - set(CostConfig.model_fields))
        if unknown:
            raise ValueError(f"training.exploration.cost names fields of task.cost "
                             f"({', '.join(CostConfig.model_fields)}); got unknown {unknown}")
        if not self.cost:
            return cost
        return CostConfig.model_validate({**cost.model_dump(), **self.cost})


class TrainingConfig(BaseModel):
    """How the agent learns from its replay buffer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: PositiveInt = 256
    """Windows per update."""
    window: PositiveInt = 6
    """T: steps of multi-step latent prediction (and of TD(lambda) for the critic)."""
    critic_window: PositiveInt | None = None
    """Steps of each replayed window the critic learns on: a random contiguous part of this
    length per window (its TD(lambda) truncated to it); None: the whole window. The critic's
    share of an update's time shrinks with it (on Hopper it is over 40% with the whole window)."""
    critic_updates: PositiveInt = 1
    """Critic steps per update: the first on the update's windows, each other on windows
    replayed afresh (their target latents). Raises the critic's update-to-data ratio without
    the world model's cost (a critic step is a fraction of an update)."""
    lr: PositiveFloat = 1e-3
    """Adam learning rate of the world model (encoder + predictor)."""
    critic_lr: PositiveFloat = 3e-4
    """Adam learning rate of the critic."""
    policy_lr: PositiveFloat = 1e-3
    """Adam learning rate of the mode-1 policy."""
    grad_clip: PositiveFloat = 10.0
    """Gradient-norm clip for every optimiser."""
    relabel_prob: float = Field(0.5, ge=0.0, le=1.0)
    """Fraction of critic windows whose goal is a future state of the same episode (hindsight)."""
    random_steps: NonNegativeInt = 10_000
    """Env steps of random exploration before the planner acts, rounded up to whole batches of
    episodes (the planner's first batch adapts and pretrains on stored episodes)."""
    updates_per_step: float = Field(0.25, ge=0.0)
    """Gradient updates per collected env step once learning starts."""
    pretrain_updates: NonNegativeInt = 2000
    """Updates right after random exploration, before the planner takes over."""
    refit_every: NonNegativeInt = 0
    """Env steps between refits of the encoder's input normalisation to the whole replay, each
    keeping what the encoder computes (``Encoder.refit``: the MLP encoder's; a no-op for the
    others); 0: fitted once, when learning starts.
    An agent that explores past its random phase meets inputs many of that phase's standard
    deviations away (the folded arm's far goals: up to 9)."""
    exploration: ExplorationConfig = ExplorationConfig()
    """How the agent explores while it collects: noise, random actions, the collection
    planner and its cost, the epistemic term, practice goals."""
    probe_encoder_weight: float = Field(0.0, ge=0.0)
    """Weight of the probe's readout (of the achieved goal, ``probe``) from the *online*
    embeddings in the world model's loss, each target feature's squared error over its batch
    variance: its gradient reaches the encoder, so the latent must resolve the goal space as
    finely as the observation does, where the JEPA loss alone keeps it coarse (the far-goal
    arm, seed 3: a fresh readout of the fingertip from the latent is 4.3 cm off at the far
    edge, 0.85 cm from the joints; 1.1 cm with weight 1, which lifted the far goals reached
    from 0.40 to 0.80: README, "A latent that resolves the goal space"). The probe itself
    still learns on the target's latents. Needs a probe; 0: off."""
    bf16: bool = False
    """On CUDA, compute the world model's loss under bfloat16 autocast (weights, optimiser
    and the VICReg statistics stay float32: autocast keeps reductions in float32); ignored on
    the CPU, where bfloat16 matmuls are slower."""
    vector_env: Literal["sync", "async"] = "sync"
    """How the command line and ``Run`` step their B training envs: ``sync`` (Gymnasium's
    ``SyncVectorEnv``, one process; the faster on 2 cores) or ``async`` (``AsyncVectorEnv``,
    one worker process per env; for envs slow enough to outweigh the pipes)."""

    @model_validator(mode="before")
    @classmethod
    def _moved_to_exploration(cls, data: Any) -> Any:
        """Configs (files, overrides, checkpoints) written before the exploration fields had a
        section of their own: each old key moves to ``exploration``, with a DeprecationWarning."""
        if not isinstance(data, Mapping) or not set(data) & set(MOVED_TO_EXPLORATION):
            return data
        data = dict(data)
        section = data.get("exploration", {})
        section = dict(section) if isinstance(section, Mapping) else section.model_dump()
        moved = []
        for old, new in MOVED_TO_EXPLORATION.items():
            if old not in data:
                continue
            if new in section:
                raise ValueError(f"training.{old} is training.exploration.{new}, which is given too: keep that one")
            section[new] = data.pop(old)
            moved.append(f"training.{old} is now training.exploration.{new}")
        warnings.warn("; ".join(moved), DeprecationWarning, stacklevel=2)
        data["exploration"] = section
        return data


def _moved(old: str, new: str) -> property:
    """A read-only alias of an exploration field under its old name, with a DeprecationWarning."""
    def get(self: TrainingConfig) -> Any:
        warnings.warn(f"training.{old} is now training.exploration.{new}", DeprecationWarning, stacklevel=2)
        return getattr(self.exploration, new)
    return property(get, doc=f"Deprecated: ``exploration.{new}``.")


for _old, _new in MOVED_TO_EXPLORATION.items():
    setattr(TrainingConfig, _old, _moved(_old, _new))


class AgentConfig(BaseModel):
    """Everything needed to build and train an agent; ``extra="forbid"`` at every level."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: TaskSpec = TaskSpec()
    encoder: ModuleSpec = ModuleSpec(name="mlp")
    world_model: ModuleSpec = ModuleSpec(name="jepa")
    coarse_world_model: ModuleSpec | None = None
    """The coarse level of a hierarchical world model (``{name: jepa, options: {k: 5,
    macro_dim: 4}}``: a predictor K actions at a time from latent macro-actions, in the same
    latent space), trained with the fine one; ``task.planner: {name: hierarchical}`` plans
    on both. None: one level."""
    critic: ModuleSpec | None = ModuleSpec(name="mlp")
    """None: plan without a critic."""
    task_cost: ModuleSpec = ModuleSpec(name="mlp")
    """Predictor of the env's cost (``-reward``) from latent state and action; built when the
    reward is part of the task (``task.objective``)."""
    goal_encoder: ModuleSpec | None = ModuleSpec(name="mlp")
    """Map from a ``desired_goal`` vector to a latent goal, for goal envs without a
    ``goal_observation()``; built when observations have ``achieved_goal`` and
    ``desired_goal``. None: such envs are refused for goal tasks."""
    policy: ModuleSpec | None = ModuleSpec(name="mlp")
    """None: no mode-1 policy (no proposals, no mode 1)."""
    probe: ModuleSpec | None = ModuleSpec(name="mlp")
    """Readout of the achieved goal from latents, for the probe goal-distance cost term and as a
    diagnostic of what the latent encodes; None (or observations without its key) disables it."""
    memory: ShortTermMemoryConfig = ShortTermMemoryConfig()
    replay: ReplayBufferConfig = ReplayBufferConfig()
    training: TrainingConfig = TrainingConfig()
    device: str = "auto"
    """``auto`` (CUDA when present), ``cpu``, ``cuda``, ``cuda:1`` ..."""
    seed: NonNegativeInt = 0
    """Seeds the agent's torch / numpy generators (never the global RNGs)."""
    dtype: Literal["float32"] = "float32"

    @model_validator(mode="after")
    def _check_modules(self) -> AgentConfig:
        for kind in ("encoder", "world_model", "coarse_world_model", "critic", "policy", "probe", "task_cost",
                     "goal_encoder"):
            spec = getattr(self, kind)
            if spec is not None:
                spec.resolve(kind)
        exploration = self.training.exploration
        if exploration.planner is not None:
            exploration.planner.resolve("planner")
        if exploration.cost:
            exploration.collecting(self.task.cost)  # names and values checked now
        for spec in (self.task.planner, exploration.planner):
            if spec is None or spec.name != "hierarchical":
                continue
            if self.coarse_world_model is None:
                raise ValueError(
                    "the hierarchical planner needs the coarse level of the world model: set "
                    "coarse_world_model (e.g. {name: jepa, options: {k: 5}}), got none"
                )
            _, h_cfg = spec.resolve("planner")
            for level in ("high", "low"):  # each level's planner spec, checked now
                ModuleSpec.model_validate(getattr(h_cfg, level)).resolve("planner")
        if self.critic is not None:
            _, critic_cfg = self.critic.resolve("critic")
            gamma = getattr(critic_cfg, "gamma", self.task.cost.gamma)
            if abs(gamma - self.task.cost.gamma) > 1e-9:
                raise ValueError(
                    f"critic gamma must equal task.cost.gamma={self.task.cost.gamma} (the critic "
                    f"values the cost past the horizon with the same discount), got {gamma}"
                )
        return self

    # ----------------------------------------------------------------- files
    @classmethod
    def load(cls, path: str | Path) -> AgentConfig:
        """Read a YAML or JSON file (by extension); errors name the key (``configurator.loading``)."""
        from jepa_agent.configurator.loading import load_config

        return load_config(path, model=cls)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        data = self.model_dump(mode="json")
        path.write_text(json.dumps(data, indent=2) if path.suffix == ".json" else yaml.safe_dump(data, sort_keys=False))

    def with_overrides(self, overrides: Mapping[str, Any]) -> AgentConfig:
        """A new config with dotted-key overrides applied (``{"task.actor.horizon": 16}``, and
        the short forms of ``configurator.loading``), checked whole."""
        from jepa_agent.configurator.loading import apply_overrides

        return apply_overrides(self, overrides)
