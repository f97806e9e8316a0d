"""The agent: composes the six modules, runs the closed loop and trains them.

One control step (DESIGN.md): ``obs -> perception -> s``; the configurator supplies the
goal latent; the actor plans in the world model against the cost (intrinsic terms plus
the critic past the horizon) and returns the first action; short-term memory keeps the
step and the imagined plan; finished episodes go to the replay buffer for learning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from actor import Actor
from configurator import AgentConfig, Configurator, TaskSpec, action_bounds, observation_shapes
from memory import ReplayBuffer, ShortTermMemory, to_torch

log = logging.getLogger(__name__)

ObsDict = dict[str, np.ndarray]
Callback = Callable[[dict[str, Any]], None]


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU; anything else is passed to torch."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _as_obs_dict(obs: Any) -> ObsDict:
    if isinstance(obs, Mapping):
        return {k: np.asarray(v) for k, v in obs.items()}
    return {"": np.asarray(obs)}


def stack_obs(obs: Sequence[Mapping[str, np.ndarray]]) -> ObsDict:
    """Stack per-env observation dicts into one batched dict. Shapes: [{k: (...)}] -> {k: (B, ...)}."""
    return {k: np.stack([np.asarray(o[k]) for o in obs]) for k in obs[0]}


def latest_metrics(updates: list[dict[str, float]]) -> dict[str, float]:
    """The newest value of every metric in a list of per-update dicts (some are sparse)."""
    out: dict[str, float] = {}
    for u in updates:
        out.update(u)
    return out


class Agent:
    """Build with :meth:`from_config` (or :meth:`load`); then ``reset`` / ``act`` / ``observe``.

    ``act`` takes one observation or a batch from B environments and returns actions of the
    same batching. :meth:`train` and :meth:`evaluate` run whole loops on Gymnasium envs.
    """

    def __init__(
        self,
        config: AgentConfig,
        *,
        input_shapes: Mapping[str, Sequence[int]],
        action_low: np.ndarray,
        action_high: np.ndarray,
    ) -> None:
        self.config = config
        self.device = resolve_device(config.device)
        low = torch.as_tensor(np.asarray(action_low, dtype=np.float32), device=self.device)
        high = torch.as_tensor(np.asarray(action_high, dtype=np.float32), device=self.device)
        self.configurator = Configurator(
            config, input_shapes=input_shapes, action_low=low, action_high=high, device=self.device
        )
        self.input_shapes = self.configurator.input_shapes
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
        self.probe = m.probe
        self.cost, self.planner, self.actor = m.cost, m.planner, m.actor
        self.task = config.task
        self.action_low, self.action_high = low, high
        self.action_dim = int(low.shape[0])
        self.collect_actor = self._collect_actor()

        tcfg = config.training
        # The EMA target encoder has requires_grad=False and is left out of the optimiser.
        self.wm_optim = torch.optim.Adam(
            [p for p in self.world_model.parameters() if p.requires_grad], lr=tcfg.lr
        )
        self.critic_optim = torch.optim.Adam(self.critic.parameters(), lr=tcfg.critic_lr) if self.critic else None
        self.policy_optim = torch.optim.Adam(self.policy.parameters(), lr=tcfg.policy_lr) if self.policy else None
        self.probe_optim = torch.optim.Adam(self.probe.parameters(), lr=tcfg.critic_lr) if self.probe else None
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
        self._goal_obs: list[ObsDict] = []

    def _collect_actor(self) -> Actor:
        spec = self.config.training.collect_planner
        if spec is None:
            return self.actor
        return Actor(
            self.task.actor, planner=self.configurator.build_planner(spec), world_model=self.world_model,
            cost=self.cost, action_low=self.action_low, action_high=self.action_high, policy=self.policy,
        )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_config(cls, config: AgentConfig, env: Any) -> Agent:
        """Build an agent for an env (or anything with ``observation_space``/``action_space``)."""
        low, high = action_bounds(env.action_space, torch.device("cpu"))
        return cls(
            config,
            input_shapes=observation_shapes(env.observation_space),
            action_low=low.numpy(),
            action_high=high.numpy(),
        )

    # ------------------------------------------------------------------ the loop
    def _to_batch(self, obs: Any) -> tuple[ObsDict, bool]:
        """Add a batch axis to a single observation; check every key's shape either way."""
        obs = _as_obs_dict(obs)
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
        goal: Mapping[str, np.ndarray] | Sequence[Mapping[str, np.ndarray]],
    ) -> None:
        """Start an episode: set the goal (or a sequence of subgoals); optionally a new task.

        ``goal`` is the goal observation (the env's ``goal_observation()``), single or batched
        over B envs, or a list of them to visit in order. A new ``task`` reconfigures the cost
        weights, planner and its budget and the horizon without touching learned weights.
        """
        if task is not None:
            self.task = task
            self.cost, self.planner, self.actor = self.configurator.configure(
                task, world_model=self.world_model, critic=self.critic, policy=self.policy, probe=self.probe
            )
            self.collect_actor = self._collect_actor()
        goals = [goal] if isinstance(goal, Mapping) else list(goal)
        batches = [self._to_batch(g) for g in goals]
        self._goal_obs = [b for b, _ in batches]
        self.configurator.set_goals([self._tensors(g) for g in self._goal_obs], self.world_model)
        B = next(iter(self._goal_obs[0].values())).shape[0]
        self.actor.reset()
        self.collect_actor.reset()
        self.memory = ShortTermMemory(
            self.config.memory, batch_size=B, latent_dim=self.world_model.latent_dim,
            action_dim=self.action_dim, device=self.device,
        )
        self._episodes = [{"obs": [], "actions": [], "costs": [], "planner": []} for _ in range(B)]
        self._last_obs = None

    @torch.no_grad()
    def act(self, obs: Any, *, mode: str | None = None) -> np.ndarray:
        """Choose actions. Shapes: obs {k: (...)} -> (A,); batched {k: (B, ...)} -> (B, A).

        ``mode``: ``"plan"`` (mode 2), ``"policy"`` (mode 1), ``"random"``, or None for the task's.
        """
        return self._act(obs, mode, self.actor)

    def _act(self, obs: Any, mode: str | None, actor: Actor) -> np.ndarray:
        if self.memory is None:
            raise RuntimeError("call reset(goal=...) before act()")
        batch, batched = self._to_batch(obs)
        t_obs = self._tensors(batch)
        if mode == "random":
            B = next(iter(batch.values())).shape[0]
            a = self.rng.uniform(self.action_low.cpu().numpy(), self.action_high.cpu().numpy(), (B, self.action_dim))
            action = a.astype(np.float32)
            self._last_from_planner = False
        else:
            s = self.world_model.encode(t_obs)  # (B, D)
            self.configurator.refresh_goal_latents(self.world_model)
            self.configurator.advance_goals(t_obs, s)
            goal = self.configurator.goal_latent()  # (B, D)
            a_t = actor.act(s, goal, generator=self.generator, mode=mode)  # (B, A)
            energy = self.cost.intrinsic(s[:, None], a_t[:, None], goal)[:, 0]  # (B,)
            self.memory.write(s, a_t, energy)
            planned = (mode or actor.mode) == "plan"
            if planned and actor.last_result is not None and actor.last_result.states is not None:
                self.memory.set_plan(actor.last_result.actions, actor.last_result.states)
            action = a_t.cpu().numpy()
            self._last_from_planner = planned
        self._last_obs = batch
        self._last_action = action
        return action if batched else action[0]

    def observe(
        self,
        next_obs: Any,
        reward: Any,
        done: Any,
        *,
        action: np.ndarray | None = None,
    ) -> None:
        """Record the transition from the last ``act``; finished episodes go to replay.

        ``action`` is what was executed if it differs from ``act``'s (exploration noise).
        The env's reward is stored as cost ``-reward`` (for logging; learning uses the
        intrinsic cost in latent space).
        """
        if self._last_obs is None or self._last_action is None:
            raise RuntimeError("observe() must follow act()")
        nxt, _ = self._to_batch(next_obs)
        executed = self._last_action if action is None else np.asarray(action, dtype=np.float32)
        executed = executed.reshape(-1, self.action_dim)
        reward = np.asarray(reward, dtype=np.float32).reshape(-1)
        done = np.asarray(done, dtype=bool).reshape(-1)
        self.env_steps += len(self._episodes)
        for i, ep in enumerate(self._episodes):
            if not ep["obs"]:
                ep["obs"].append({k: v[i] for k, v in self._last_obs.items()})
            ep["actions"].append(executed[i])
            ep["costs"].append(-reward[i])
            ep["planner"].append(self._last_from_planner)
            ep["obs"].append({k: v[i] for k, v in nxt.items()})
            if done[i]:
                self._store_episode(i)
        self._last_obs = nxt

    def _store_episode(self, i: int) -> None:
        ep = self._episodes[i]
        if ep["actions"]:
            self.replay.add_episode(
                stack_obs(ep["obs"]),
                np.stack(ep["actions"]).astype(np.float32),
                np.asarray(ep["costs"], dtype=np.float32),
                {k: v[i] for k, v in self._goal_obs[-1].items()},
                planner_mask=np.asarray(ep["planner"], dtype=bool),
            )
        self._episodes[i] = {"obs": [], "actions": [], "costs": [], "planner": []}

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

    def update(self) -> dict[str, float]:
        """One gradient step of the world model, the critic and the policy on replayed windows."""
        with self._own_global_rng():
            return self._update()

    def _update(self) -> dict[str, float]:
        tcfg = self.config.training
        batch = to_torch(self.replay.sample(tcfg.batch_size, tcfg.window, rng=self.rng), self.device)
        wm = self.world_model
        wm.train()
        loss, info = wm.loss(batch, diagnostics=self.updates % 50 == 0)
        self.wm_optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(wm.parameters(), tcfg.grad_clip)
        self.wm_optim.step()
        wm.update_target()

        if self.critic is not None or self.policy is not None or self.probe is not None:
            B, T = batch["actions"].shape[:2]
            flat = {k: v.reshape(B * (T + 1), *v.shape[2:]) for k, v in batch["obs"].items()}
            with torch.no_grad():
                states = wm.encode_target(flat).reshape(B, T + 1, -1)  # (B, T+1, D)
                goals = wm.encode_target(batch["goal_obs"])  # (B, D)
        if self.critic is not None and self.critic_optim is not None:
            with torch.no_grad():
                future = wm.encode_target(batch["future_obs"])  # (B, D)
                relabel = torch.rand(B, generator=self.generator, device=self.device) < tcfg.relabel_prob
                c_goals = torch.where(relabel[:, None], future, goals)
                costs = self.cost.intrinsic(states[:, 1:], batch["actions"], c_goals)  # (B, T)
            c_loss, c_info = self.critic.loss({"states": states, "costs": costs, "goals": c_goals})
            self.critic_optim.zero_grad(set_to_none=True)
            c_loss.backward()
            torch.nn.utils.clip_grad_norm_(self.critic.parameters(), tcfg.grad_clip)
            self.critic_optim.step()
            self.critic.update_target()
            info.update(c_info)
        if self.probe is not None and self.probe_optim is not None:
            pr_loss, pr_info = self.probe.loss({"states": states, "targets": batch["obs"][self.probe.key].float()})
            self.probe_optim.zero_grad(set_to_none=True)
            pr_loss.backward()
            self.probe_optim.step()
            info.update(pr_info)
        if self.policy is not None and self.policy_optim is not None and bool(batch["planner_mask"].any()):
            p_loss, p_info = self.policy.loss(
                {"states": states[:, :-1], "goals": goals, "actions": batch["actions"], "mask": batch["planner_mask"]}
            )
            self.policy_optim.zero_grad(set_to_none=True)
            p_loss.backward()
            torch.nn.utils.clip_grad_norm_(self.policy.parameters(), tcfg.grad_clip)
            self.policy_optim.step()
            info.update(p_info)
        self.updates += 1
        return info

    # ------------------------------------------------------------------ loops
    def train(self, env: Any, steps: int, *, callback: Callback | None = None) -> dict[str, list]:
        """Collect ``steps`` env steps and learn from them.

        ``env`` is one Gymnasium env or a list of them (B envs stepped in lockstep; a batch of
        episodes ends when the first env's episode ends). The first ``random_steps`` use
        random actions held for ``random_action_repeat`` steps; then, after
        ``pretrain_updates`` updates, the planner acts with Gaussian exploration noise and
        ``updates_per_step`` updates follow every env step. ``callback`` receives a dict of
        progress after every episode batch. Returns the history of episodes and updates.
        """
        envs = list(env) if isinstance(env, Sequence) else [env]
        tcfg = self.config.training
        history: dict[str, list] = {"episodes": [], "updates": []}
        target = self.env_steps + steps
        low, high = self.action_low.cpu().numpy(), self.action_high.cpu().numpy()
        half = (high - low) / 2
        pending_updates = 0.0
        pretrained = self.updates > 0
        first_seed = self.config.seed * 10_000 if self.env_steps == 0 else None
        start = time.perf_counter()
        while self.env_steps < target:
            obs, goals = self._reset_envs(envs, first_seed)
            first_seed = None
            self.reset(goal=goals)
            done = np.zeros(len(envs), dtype=bool)
            held = None
            last_info: list[dict] = [{} for _ in envs]
            episode_returns = np.zeros(len(envs))
            t = 0
            # Decided per batch of episodes: the planner needs stored (whole) episodes to
            # adapt and pretrain on, so random exploration ends at a batch boundary.
            exploring = self.env_steps < tcfg.random_steps
            while not done.any():
                if exploring:
                    if held is None or t % tcfg.random_action_repeat == 0:
                        held = self.rng.uniform(low, high, (len(envs), self.action_dim)).astype(np.float32)
                    self.act(obs, mode="random")
                    action = held
                else:
                    if not pretrained and self.replay.num_episodes > 0:  # else after the first batch
                        self.adapt()
                        history["updates"] += self._do_updates(tcfg.pretrain_updates)
                        pretrained = True
                    action = self._act(obs, None, self.collect_actor)
                    noise = tcfg.exploration_std * half * self.rng.standard_normal(action.shape)
                    action = np.clip(action + noise, low, high).astype(np.float32)
                results = [e.step(a) for e, a in zip(envs, action, strict=True)]
                obs = stack_obs([r[0] for r in results])
                reward = np.array([r[1] for r in results])
                done = np.array([r[2] or r[3] for r in results])
                last_info = [r[4] for r in results]
                episode_returns += reward
                self.observe(obs, reward, np.full(len(envs), done.any()), action=action)
                t += 1
                if not exploring or self.env_steps >= tcfg.random_steps:
                    if pretrained:
                        pending_updates += tcfg.updates_per_step * len(envs)
                        n = int(pending_updates)
                        pending_updates -= n
                        history["updates"] += self._do_updates(n)
            for i, info in enumerate(last_info):
                history["episodes"].append(
                    {
                        "env_steps": self.env_steps,
                        "return": float(episode_returns[i]),
                        "success": float(info.get("is_success", np.nan)),
                        "final_distance": float(info.get("distance", np.nan)),
                        "random": bool(exploring),
                        "wall_s": time.perf_counter() - start,
                    }
                )
            if callback is not None:
                recent = history["episodes"][-20:]
                callback(
                    {
                        "env_steps": self.env_steps,
                        "target": target,
                        "updates": self.updates,
                        "success": float(np.nanmean([e["success"] for e in recent])),
                        "phase": "random" if exploring else "planner",
                        "last_update": latest_metrics(history["updates"][-60:]),
                    }
                )
        return history

    @torch.no_grad()
    def adapt(self, n: int = 10_000) -> None:
        """Fit the modules' data-dependent normalisation to replayed observations (once,
        after random exploration, before the first update)."""
        batch = to_torch(self.replay.sample(n, 1, rng=self.rng), self.device)
        self.world_model.adapt({k: v[:, 0] for k, v in batch["obs"].items()})

    def _do_updates(self, n: int) -> list[dict[str, float]]:
        lengths = self.replay.episode_lengths()
        if len(lengths) == 0 or lengths.max() < self.config.training.window:
            return []  # nothing to learn from yet (e.g. a loaded agent with an empty replay)
        out = []
        for _ in range(n):
            info = self.update()
            info["update"] = self.updates
            info["env_steps"] = self.env_steps
            out.append(info)
        return out

    @staticmethod
    def _reset_envs(envs: list[Any], seed: int | None) -> tuple[ObsDict, ObsDict]:
        obs, goals = [], []
        for i, e in enumerate(envs):
            o, info = e.reset(seed=None if seed is None else seed + i)
            g = info.get("goal_observation")
            if g is None:
                g = e.get_wrapper_attr("goal_observation")()
            obs.append(_as_obs_dict(o))
            goals.append(_as_obs_dict(g))
        return stack_obs(obs), stack_obs(goals)

    def evaluate(
        self,
        env: Any,
        episodes: int,
        *,
        seed: int = 1_000_000,
        mode: str | None = None,
        callback: Callback | None = None,
    ) -> dict[str, Any]:
        """Run ``episodes`` episodes on one env without exploration noise.

        Episode ``i`` resets with ``seed + i``: pick a seed range the training never used
        to evaluate on held-out goals. Returns success rate, final distances and the
        wall-clock time of every ``act`` call (the control latency).
        """
        records, act_ms = [], []
        for i in range(episodes):
            obs, goal = self._reset_envs([env], seed + i)
            self.reset(goal=goal)
            obs = {k: v[0] for k, v in obs.items()}
            done, ret, info = False, 0.0, {}
            while not done:
                t0 = time.perf_counter()
                action = self.act(obs, mode=mode)
                act_ms.append((time.perf_counter() - t0) * 1e3)
                obs, reward, terminated, truncated, info = env.step(action)
                ret += float(reward)
                done = terminated or truncated
            records.append(
                {
                    "seed": seed + i,
                    "success": float(info.get("is_success", np.nan)),
                    "final_distance": float(info.get("distance", np.nan)),
                    "return": ret,
                }
            )
            if callback is not None:
                callback({"episode": i + 1, "episodes": episodes, "success": float(np.mean([r["success"] for r in records]))})
        return {
            "success_rate": float(np.mean([r["success"] for r in records])),
            "mean_final_distance": float(np.mean([r["final_distance"] for r in records])),
            "mean_return": float(np.mean([r["return"] for r in records])),
            "episodes": episodes,
            "act_ms_median": float(np.median(act_ms)),
            "act_ms_p90": float(np.percentile(act_ms, 90)),
            "records": records,
        }

    @torch.no_grad()
    def diagnostics(self, n: int = 2048) -> dict[str, float]:
        """Collapse diagnostics of the online encoder on replayed observations."""
        from world_model import embedding_diagnostics

        batch = to_torch(self.replay.sample(n, 1, rng=np.random.default_rng(0)), self.device)
        obs = {k: v[:, 0] for k, v in batch["obs"].items()}
        return embedding_diagnostics(self.world_model.encode(obs))

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": "jepa-agent/1",
            "config": self.config.model_dump(mode="json"),
            "input_shapes": {k: list(v) for k, v in self.input_shapes.items()},
            "action_low": self.action_low.cpu().numpy().tolist(),
            "action_high": self.action_high.cpu().numpy().tolist(),
            "world_model": self.world_model.state_dict(),
            "critic": None if self.critic is None else self.critic.state_dict(),
            "critic_target": None if self.critic is None else self.critic._target().state_dict(),
            "policy": None if self.policy is None else self.policy.state_dict(),
            "probe": None if self.probe is None else self.probe.state_dict(),
            "optimizers": {
                "world_model": self.wm_optim.state_dict(),
                "critic": None if self.critic_optim is None else self.critic_optim.state_dict(),
                "policy": None if self.policy_optim is None else self.policy_optim.state_dict(),
                "probe": None if self.probe_optim is None else self.probe_optim.state_dict(),
            },
            "updates": self.updates,
            "env_steps": self.env_steps,
        }

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint atomically (temp file in the same folder, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(self.state_dict(), f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def _load_optimizers(self, states: dict[str, Any], path: Path) -> None:
        """Restore optimiser moments; a checkpoint whose parameter groups no longer match
        (written by an older version) still loads for acting, with fresh optimisers."""
        pairs = [
            ("world_model", self.wm_optim), ("critic", self.critic_optim),
            ("policy", self.policy_optim), ("probe", self.probe_optim),
        ]
        for name, optim in pairs:
            if optim is None or states.get(name) is None:
                continue
            try:
                optim.load_state_dict(states[name])
            except ValueError as err:
                log.warning("%s: %s optimiser state not restored (%s); learning restarts its moments", path, name, err)

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None) -> Agent:
        """Rebuild an agent from :meth:`save`'s checkpoint (optionally on another device)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no checkpoint at {path}")
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as err:
            raise ValueError(f"could not read checkpoint {path}: {err}") from err
        if not isinstance(state, dict) or state.get("format") != "jepa-agent/1":
            raise ValueError(f"{path} is not a jepa-agent checkpoint (format 'jepa-agent/1')")
        config = AgentConfig.model_validate(state["config"])
        if device is not None:
            config = config.model_copy(update={"device": device})
        agent = cls(
            config,
            input_shapes=state["input_shapes"],
            action_low=np.asarray(state["action_low"]),
            action_high=np.asarray(state["action_high"]),
        )
        agent.world_model.load_state_dict(state["world_model"])
        if agent.critic is not None:
            agent.critic.load_state_dict(state["critic"])
            agent.critic._target().load_state_dict(state["critic_target"])
        if agent.policy is not None:
            agent.policy.load_state_dict(state["policy"])
        if agent.probe is not None:
            agent.probe.load_state_dict(state["probe"])
        agent._load_optimizers(state["optimizers"], path)
        agent.updates, agent.env_steps = state["updates"], state["env_steps"]
        return agent
