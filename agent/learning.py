"""Learning: the agent's optimisers and every gradient step.

:class:`Learner` sits below the :class:`~jepa_agent.agent.Agent`: it reads the agent's
modules (world model and task cost, critic, policy, probe, goal encoder, coarse model) and
its replay buffer, and never an env. One :meth:`Learner.update` is a world-model step (the
JEPA loss with VICReg, the task cost on the predictor's rollout, the probe's readout when
``training.probe_encoder_weight`` is set), then a step of each other learning module on the
same replayed windows; a non-finite loss or gradient is skipped and counted. Refits (the
predictor alone, a new critic or coarse model on the same replay) and data-parallel
training (:meth:`Learner.distribute`) live here too. The agent's ``update``,
``update_critic``, ``refit_predictor``, ``new_critic``, ``update_coarse``,
``new_coarse_model`` and ``distribute`` forward to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from jepa_agent.configurator import AgentConfig, TaskSpec
from jepa_agent.memory import ReplayBuffer, to_torch

if TYPE_CHECKING:
    from jepa_agent.agent.agent import Agent

log = logging.getLogger(__name__)

__all__ = ["Learner"]

OPTIMIZERS = ("world_model", "critic", "policy", "probe", "goal_encoder", "coarse_world_model")
"""The optimisers by the module they train (the world model's also trains the task cost)."""


class Learner:
    """The optimisers of an agent's learning modules and the steps that use them (see the
    module docstring). ``agent``: the agent whose modules and replay it trains."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        tcfg = agent.config.training
        # The EMA target encoder has requires_grad=False and is left out of the optimiser; the
        # task cost is trained inside the world model's loss, so it shares its optimiser.
        wm_params = [p for p in self.agent.world_model.parameters() if p.requires_grad]
        if self.agent.task_cost is not None:
            wm_params += list(self.agent.task_cost.parameters())
        self.wm_optim = torch.optim.Adam(wm_params, lr=tcfg.lr)
        self.critic_optim = torch.optim.Adam(self.agent.critic.parameters(), lr=tcfg.critic_lr) if self.agent.critic else None
        self.policy_optim = torch.optim.Adam(self.agent.policy.parameters(), lr=tcfg.policy_lr) if self.agent.policy else None
        self.probe_optim = torch.optim.Adam(self.agent.probe.parameters(), lr=tcfg.critic_lr) if self.agent.probe else None
        self.goal_encoder_optim = (
            torch.optim.Adam(self.agent.goal_encoder.parameters(), lr=tcfg.critic_lr) if self.agent.goal_encoder else None
        )
        self.coarse_optim = (
            torch.optim.Adam(self.agent.coarse_model.parameters(), lr=self.agent.coarse_model.config.lr)
            if self.agent.coarse_model is not None else None
        )
        self._ddp: dict[str, Any] = {}  # learning modules wrapped for data-parallel training (distribute())

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimisers there are, by the module they train (:data:`OPTIMIZERS`)."""
        every = (self.wm_optim, self.critic_optim, self.policy_optim, self.probe_optim, self.goal_encoder_optim,
                 self.coarse_optim)
        return {name: optim for name, optim in zip(OPTIMIZERS, every, strict=True) if optim is not None}

    def state_dict(self) -> dict[str, Any]:
        """Every optimiser's state by name (None for a module the agent lacks)."""
        mine = self.optimizers
        return {name: mine[name].state_dict() if name in mine else None for name in OPTIMIZERS}

    def load_state_dict(self, states: Mapping[str, Any], path: Path) -> None:
        """Restore optimiser moments; a checkpoint whose parameter groups no longer match
        (written by an older version) still loads for acting, with fresh optimisers."""
        for name, optim in self.optimizers.items():
            if states.get(name) is None:
                continue
            try:
                optim.load_state_dict(states[name])
            except ValueError as err:
                log.warning("%s: %s optimiser state not restored (%s); learning restarts its moments", path, name, err)

    def update(self, batch: Mapping[str, Any] | None = None) -> dict[str, float]:
        """One gradient step of the world model, the critic and the policy on replayed
        windows: ``batch`` (a ``ReplayBuffer.sample`` result), or ``training.batch_size``
        windows drawn from the agent's replay."""
        with self.agent._own_global_rng():
            return self._update(batch)

    def distribute(self) -> None:
        """Train data-parallel with the other processes of the initialised default process
        group (:mod:`agent.distributed`): every learning module is wrapped in
        ``DistributedDataParallel``, so each :meth:`update` averages the gradients of all
        ranks (each on its own part of the global batch), and the world model's VICReg terms
        see the embeddings of the whole global batch. The ranks start from rank 0's weights."""
        agent = self.agent
        from torch.nn.parallel import DistributedDataParallel

        from jepa_agent.agent.distributed import LossModule

        if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
            raise RuntimeError("distribute() needs an initialised process group (agent.distributed.init_from_env)")
        ids = [agent.device.index or 0] if agent.device.type == "cuda" else None

        def ddp(loss: Callable[..., Any], *modules: torch.nn.Module | None) -> DistributedDataParallel:
            return DistributedDataParallel(LossModule(loss, *modules), device_ids=ids, find_unused_parameters=True)

        self._ddp = {"world_model": ddp(agent.world_model.loss, agent.world_model, agent.task_cost)}
        for name in ("critic", "policy", "probe", "goal_encoder"):
            module = getattr(self.agent, name)
            if module is not None:
                self._ddp[name] = ddp(module.loss, module)
        if hasattr(agent.world_model, "gather_batch_statistics"):
            agent.world_model.gather_batch_statistics = True
        self.sync_state()

    def sync_state(self) -> None:
        """Every module's parameters and buffers (targets included) as rank 0's."""
        agent = self.agent
        for module in (agent.world_model, agent.task_cost, agent.critic, agent.policy, agent.probe, agent.goal_encoder):
            if module is not None:
                for t in module.state_dict().values():
                    torch.distributed.broadcast(t, 0)

    def _all_ranks(self, flag: bool) -> bool:
        """``flag`` on every rank (this process alone: ``flag``)."""
        if not self._ddp:
            return flag
        t = torch.tensor([int(flag)], device=self.agent.device)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MIN)
        return bool(t.item())

    def _any_rank(self, flag: bool) -> bool:
        """``flag`` on some rank (this process alone: ``flag``)."""
        return not self._all_ranks(not flag)

    def _loss(self, name: str, loss: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``loss(*args, **kwargs)``, through the module's DDP wrapper when distributed."""
        ddp = self._ddp.get(name)
        return loss(*args, **kwargs) if ddp is None else ddp(*args, **kwargs)

    def _update(self, given: Mapping[str, Any] | None = None) -> dict[str, float]:
        agent = self.agent
        tcfg = agent.config.training
        sample = given if given is not None else agent.replay.sample(tcfg.batch_size, tcfg.window, rng=agent.rng)
        batch = to_torch(sample, agent.device)
        wm = agent.world_model
        wm.train()
        head = None
        if agent.task_cost is not None:
            task_cost = agent.task_cost

            def head(predicted: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
                # the env's cost of each step, fitted on the predictor's own rollout (B, T, D)
                return task_cost.loss(
                    {"states": predicted, "actions": batch["actions"], "costs": batch["costs"],
                     "terminals": batch["terminals"]}
                )

        bf16 = tcfg.bf16 and agent.device.type == "cuda"
        with torch.autocast(agent.device.type, dtype=torch.bfloat16, enabled=bf16):
            readout = {"readout": self._probe_readout(batch)} if tcfg.probe_encoder_weight > 0 else {}
            loss, info = self._loss("world_model", wm.loss, batch, diagnostics=agent.updates % 50 == 0, head=head,
                                    **readout)
        if self._learn(self.wm_optim, loss, "world_model", tcfg.grad_clip):
            wm.update_target()

        learners = (agent.critic, agent.policy, agent.probe, agent.goal_encoder)
        if any(m is not None for m in learners):
            B, T = batch["actions"].shape[:2]
            states, goals, future = self._encode_windows(batch)
        if agent.goal_encoder is not None and self.goal_encoder_optim is not None:
            achieved = batch["obs"]["achieved_goal"].reshape(B * (T + 1), -1).float()
            g_loss, g_info = self._loss("goal_encoder", agent.goal_encoder.loss, achieved, states.reshape(B * (T + 1), -1))
            self._learn(self.goal_encoder_optim, g_loss, "goal_encoder")
            info.update(g_info)
        if agent.critic is not None and self.critic_optim is not None:
            info.update(self._critic_step(batch, states, goals, future))
            for _ in range(tcfg.critic_updates - 1):  # more critic steps, each on fresh windows
                info.update(self._fresh_critic_step())
        if agent.probe is not None and self.probe_optim is not None:
            pr_loss, pr_info = self._loss(
                "probe", agent.probe.loss, {"states": states, "targets": batch["obs"][agent.probe.key].float()}
            )
            self._learn(self.probe_optim, pr_loss, "probe")
            info.update(pr_info)
        if agent.policy is not None and self.policy_optim is not None and self._any_rank(bool(batch["planner_mask"].any())):
            p_loss, p_info = self._loss(
                "policy", agent.policy.loss,
                {"states": states[:, :-1], "goals": goals, "actions": batch["actions"], "mask": batch["planner_mask"]},
            )
            self._learn(self.policy_optim, p_loss, "policy", tcfg.grad_clip)
            info.update(p_info)
        if agent.coarse_model is not None and self.coarse_optim is not None:
            co_loss, co_info = self._coarse_loss()
            self._learn(self.coarse_optim, co_loss, "coarse_world_model", tcfg.grad_clip)
            info.update(co_info)
        agent.updates += 1
        return info

    def _critic_step(
        self, batch: Mapping[str, Any], states: torch.Tensor, goals: torch.Tensor, future: torch.Tensor
    ) -> dict[str, float]:
        """One critic update on replayed windows: their target latents ``states`` (B, T+1, D),
        the episodes' goals and hindsight goals (B, D) each."""
        agent = self.agent
        assert agent.critic is not None and self.critic_optim is not None
        tcfg = agent.config.training
        B = states.shape[0]
        with torch.no_grad():
            offsets = None  # (B,) steps from the window's start to a hindsight goal's state; -1: the env's goal
            if agent.goal_kind != "none":
                relabel = torch.rand(B, generator=agent.generator, device=agent.device) < tcfg.relabel_prob
                c_goals = torch.where(relabel[:, None], future, goals)
                if batch.get("future_offset") is not None:
                    offsets = torch.where(relabel, batch["future_offset"], torch.full_like(batch["future_offset"], -1))
            else:
                c_goals = goals
            # the total cost: the hard-wired terms on the latents, plus the *observed* env
            # cost where the reward is part of the task (the planner uses its prediction)
            costs = agent.cost.fixed(states[:, 1:], batch["actions"], c_goals)  # (B, T)
            if agent.cost.task_cost_weight > 0:
                costs = costs + agent.cost.task_cost_weight * batch["costs"]
            window = {"states": states, "actions": batch["actions"], "costs": costs,
                      "terminals": batch["terminals"], "mask": batch["planner_mask"]}
            if tcfg.critic_window is not None and tcfg.critic_window < costs.shape[1]:
                window, offsets = self._sub_window(window, offsets, tcfg.critic_window)
        c_loss, c_info = self._loss("critic", agent.critic.loss, {**window, "goals": c_goals, "goal_offsets": offsets})
        if self._learn(self.critic_optim, c_loss, "critic", tcfg.grad_clip):
            agent.critic.update_target()
        return c_info

    def _sub_window(
        self, window: dict[str, torch.Tensor | None], offsets: torch.Tensor | None, k: int
    ) -> tuple[dict[str, torch.Tensor | None], torch.Tensor | None]:
        """A random contiguous part of ``k`` steps of each window (``training.critic_window``):
        states (B, k+1, D), the per-step entries (B, k, ...), and the hindsight goals' offsets
        counted from the part's start (one that falls before it is then unknown, < 0)."""
        agent = self.agent
        B, T = window["costs"].shape
        start = torch.randint(0, T - k + 1, (B,), generator=agent.generator, device=agent.device)  # (B,)
        steps = start[:, None] + torch.arange(k + 1, device=agent.device)  # (B, k+1)
        rows = torch.arange(B, device=agent.device)[:, None]  # (B, 1)
        part = {name: None if value is None else value[rows, steps if name == "states" else steps[:, :-1]]
                for name, value in window.items()}
        if offsets is not None:
            offsets = torch.where(offsets >= 0, offsets - start, offsets)
        return part, offsets

    def update_critic(self) -> dict[str, float]:
        """One gradient step of the critic alone, on replayed windows (``update`` makes one
        too, with the others)."""
        agent = self.agent
        if agent.critic is None or self.critic_optim is None:
            raise ValueError("the agent has no critic (AgentConfig.critic)")
        with agent._own_global_rng():
            return self._fresh_critic_step()

    def _fresh_critic_step(self) -> dict[str, float]:
        """One critic step on ``training.batch_size`` windows replayed afresh (call it inside
        the agent's global-RNG block)."""
        agent, tcfg = self.agent, self.agent.config.training
        batch = to_torch(agent.replay.sample(tcfg.batch_size, tcfg.window, rng=agent.rng), agent.device)
        return self._critic_step(batch, *self._encode_windows(batch))

    def refit_predictor(self, updates: int, lr: float = 3e-4) -> dict[str, float]:
        """Fit the world model's predictor alone, ``updates`` Adam steps at ``lr`` on replayed
        windows (``training.batch_size`` x ``training.window``), in the target encoder's space
        with both encoders, the heads and every other module left as they are
        (``JEPAWorldModel.refit_loss``). Late in training the online encoder runs ahead of
        its EMA target and the predictor learns from online starts; refitted, it predicts
        from target starts into the space the goals, critic and policy read, which a plan
        started with ``world_model.options.plan_encoder=target`` uses. Returns the refit
        loss of the first and of the last batch (``refit_loss_first``, ``refit_loss_last``)."""
        agent = self.agent
        wm = agent.world_model
        if not hasattr(wm, "refit_loss"):
            raise ValueError(f"{type(wm).__name__} has no predictor to refit (refit_loss); the jepa world model has")
        if updates < 1 or not lr > 0:
            raise ValueError(f"refit_predictor needs updates >= 1 and lr > 0, got {updates} and {lr}")
        if self._ddp:
            raise ValueError("refit_predictor runs in one process (its gradients are not averaged over ranks): "
                             "call it on an agent loaded from the checkpoint, not after distribute()")
        tcfg = agent.config.training
        optim = torch.optim.Adam(wm.predictor_parameters(), lr=lr)
        losses = []
        with agent._own_global_rng():
            for _ in range(updates):
                batch = to_torch(agent.replay.sample(tcfg.batch_size, tcfg.window, rng=agent.rng), agent.device)
                loss, info = wm.refit_loss(batch)
                self._learn(optim, loss, "predictor refit", tcfg.grad_clip)
                losses.append(info["refit_loss"])
        return {"refit_loss_first": losses[0], "refit_loss_last": losses[-1]}

    @torch.no_grad()
    def adapt(self, n: int = 10_000, *, replay: ReplayBuffer | None = None) -> None:
        """Fit the modules' data-dependent settings to the replay (once, after random
        exploration, before the first update): the encoder's input normalisation, and
        whether the task cost models episode ends (``TaskCostConfig.termination=None``: on
        when some replayed episode terminated). ``replay``: fit to that one instead of the
        agent's (data-parallel ranks fit to the same data)."""
        replay = self.agent.replay if replay is None else replay
        self.agent.world_model.adapt(self._replayed_observations(n, replay))
        tc = self.agent.task_cost
        if tc is not None and getattr(getattr(tc, "config", None), "termination", False) is None:
            tc.set_termination(replay.num_terminated > 0)
            log.info("task cost termination %s (%d terminated episodes in replay)",
                     "on" if tc.termination_active else "off", replay.num_terminated)

    def refit(self, n: int = 10_000) -> None:
        """Refit the world model's input normalisation to ``n`` replayed observations, keeping
        what its encoders compute (``training.refit_every`` calls this while training)."""
        self.agent.world_model.refit(self._replayed_observations(n))
        log.info("input normalisation refitted at %d env steps", self.agent.env_steps)

    def _replayed_observations(self, n: int, replay: ReplayBuffer | None = None) -> dict[str, torch.Tensor]:
        """``n`` observations drawn from ``replay`` (the agent's by default), on the device."""
        batch = to_torch((self.agent.replay if replay is None else replay).sample(n, 1, rng=self.agent.rng), self.agent.device)
        return {k: v[:, 0] for k, v in batch["obs"].items()}

    @torch.no_grad()
    def _encode_windows(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The target latents of replayed windows (B, T+1, D), their episodes' goal latents
        and hindsight goal latents (B, D) each: what the critic, policy and probe learn on."""
        B, T = batch["actions"].shape[:2]
        flat = {k: v.reshape(B * (T + 1), *v.shape[2:]) for k, v in batch["obs"].items()}
        states = self.agent.world_model.encode_target(flat).reshape(B, T + 1, -1)  # (B, T+1, D)
        goals, future = self._batch_goals(batch)  # (B, D) each
        return states, goals, future

    def new_critic(self, spec: Any, task: TaskSpec | None = None) -> None:
        """Replace the critic by a fresh one built from ``spec`` (a ``ModuleSpec`` of
        ``AgentConfig.critic``), with a new optimiser: fit it on the replay with
        :meth:`update_critic`; the next ``reset(task)`` plans with it. ``task`` replaces the
        agent's task as well (its ``cost.gamma`` must be the new critic's)."""
        agent = self.agent
        update = {"critic": spec} if task is None else {"critic": spec, "task": task}
        config = AgentConfig.model_validate(agent.config.model_copy(update=update).model_dump())  # checked whole
        with agent._own_global_rng():
            agent.critic = agent.configurator.build_critic(config.critic, agent.world_model.latent_dim)
        self.critic_optim = torch.optim.Adam(agent.critic.parameters(), lr=config.training.critic_lr)
        agent.config = config
        if task is not None:
            agent.task = config.task

    def update_coarse(self) -> dict[str, float]:
        """One gradient step of the coarse world model alone, on replayed windows (``update``
        makes one too, with the others)."""
        if self.agent.coarse_model is None or self.coarse_optim is None:
            raise ValueError("the agent has no coarse world model (AgentConfig.coarse_world_model)")
        with self.agent._own_global_rng():
            loss, info = self._coarse_loss()
            self._learn(self.coarse_optim, loss, "coarse_world_model", self.agent.config.training.grad_clip)
        return info

    def new_coarse_model(self, spec: Any) -> None:
        """Replace the coarse world model by a fresh one built from ``spec`` (a ``ModuleSpec``
        of ``AgentConfig.coarse_world_model``), with a new optimiser: fit it on the replay with
        :meth:`update_coarse`; the next ``reset(task)`` plans with it."""
        agent = self.agent
        agent.coarse_model = agent.configurator.build_coarse(spec, agent.world_model)
        self.coarse_optim = torch.optim.Adam(agent.coarse_model.parameters(), lr=agent.coarse_model.config.lr)
        agent.config = agent.config.model_copy(update={"coarse_world_model": spec})

    def _coarse_loss(self) -> tuple[torch.Tensor, dict[str, float]]:
        """The coarse model's loss on replayed windows of ``train_steps * k`` actions: from
        the fine encoder's embedding of their first observation (detached) to the fine
        target encoder's embeddings of every K-th one."""
        agent = self.agent
        co, wm = agent.coarse_model, agent.world_model
        assert co is not None
        J, K = co.config.train_steps, co.k
        batch = to_torch(agent.replay.sample(agent.config.training.batch_size, J * K, rng=agent.rng), agent.device)
        B = batch["actions"].shape[0]
        every = torch.arange(0, J * K + 1, K, device=agent.device)  # 0, K, ..., JK
        obs = {k: v[:, every].reshape(B * (J + 1), *v.shape[2:]) for k, v in batch["obs"].items()}
        with torch.no_grad():
            s0 = wm.encode({k: v[:, 0] for k, v in batch["obs"].items()})  # (B, D)
            targets = wm.encode_target(obs).reshape(B, J + 1, -1)[:, 1:]  # (B, J, D)
        return self._loss("coarse_world_model", co.loss, {"s0": s0, "targets": targets, "actions": batch["actions"]})

    def _learn(self, optim: torch.optim.Optimizer, loss: torch.Tensor, name: str, clip: float | None = None) -> bool:
        """One optimiser step on ``loss`` (gradients clipped to norm ``clip``). A non-finite
        loss or gradient is not applied (counted as ``nonfinite_loss`` / ``nonfinite_grad``):
        nothing non-finite reaches the weights. True if the step was taken."""
        agent = self.agent
        if not self._all_ranks(bool(torch.isfinite(loss))):  # all skip together, or none waits
            agent._count_fault("nonfinite_loss")
            log.warning("update %d: the %s loss is %s; its step is skipped", agent.updates, name, loss.item())
            return False
        optim.zero_grad(set_to_none=True)
        loss.backward()
        params = [p for g in optim.param_groups for p in g["params"] if p.grad is not None]
        if clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(params, clip)
        else:
            norm = torch.stack([p.grad.norm() for p in params]).norm() if params else loss.new_zeros(())
        if not bool(torch.isfinite(norm)):
            optim.zero_grad(set_to_none=True)
            agent._count_fault("nonfinite_grad")
            log.warning("update %d: the %s gradients are not finite; its step is skipped", agent.updates, name)
            return False
        optim.step()
        return True

    @torch.no_grad()
    def _batch_goals(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """The goal latents of replayed windows, and the hindsight ones (a later state of the
        same episode). Shapes: -> (B, D), (B, D)."""
        agent = self.agent
        wm = agent.world_model
        B = batch["actions"].shape[0]
        if agent.goal_kind == "observation":
            return wm.encode_target(batch["goal_obs"]), wm.encode_target(batch["future_obs"])
        if agent.goal_kind == "desired_goal":
            assert agent.goal_encoder is not None
            desired = batch["obs"]["desired_goal"][:, 0].float()
            return agent.goal_encoder(desired), agent.goal_encoder(batch["future_obs"]["achieved_goal"].float())
        zeros = torch.zeros(B, wm.latent_dim, device=agent.device)
        return zeros, zeros

    def _probe_readout(self, batch: Mapping[str, Any]) -> Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, float]]]:
        """The world model's ``readout`` for ``training.probe_encoder_weight``: the probe's
        readout of its key from the online embeddings of the window, its squared error over
        each target feature's batch variance (so metres and radians weigh alike), times the
        weight. Its gradient reaches the encoder only: the probe reads with detached weights
        (it learns on the target's latents, in its own step)."""
        probe, weight = self.agent.probe, self.agent.config.training.probe_encoder_weight
        targets = batch["obs"][probe.key].float()  # (B, T+1, G)
        var = targets.reshape(-1, targets.shape[-1]).var(0).clamp_min(1e-8)  # (G,)
        frozen = {name: p.detach() for name, p in probe.named_parameters()}

        def readout(online: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
            read = torch.func.functional_call(probe, frozen, (online,))
            err = ((read - targets).pow(2) / var).mean()
            return weight * err, {"readout_nmse": float(err.detach())}

        return readout

