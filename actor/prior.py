"""Follow a policy prior: the plan is one of the proposals the actor hands the planner (the
distilled policy's, or the critic's greedy actor's, rolled through the world model).

Not a search: a baseline and a collection mode. As ``training.exploration.planner`` it lets
the actor whose value the critic learns produce the training data (TD3's data, with the
agent's exploration noise on top), while the task's planner still acts at evaluation.
"""

from __future__ import annotations

import torch
from pydantic import Field

from jepa_agent.actor.base import Planner, PlannerConfig, PlanProblem


class PriorPlannerConfig(PlannerConfig):
    """Which proposal to follow."""

    proposal: int = Field(-1)
    """Index into the actor's proposals, which come in order: the distilled policy's (when
    ``actor.policy_proposals``), then the critic's greedy actor's (when the critic has one and
    ``actor.critic_proposals``). -1, the last: the critic's actor when there is one."""


class PriorPlanner(Planner):
    """Returns the chosen proposal unchanged, with its cost under the model (one rollout)."""

    config: PriorPlannerConfig
    config_class = PriorPlannerConfig

    def optimize(self, problem: PlanProblem, start: float) -> tuple[torch.Tensor, torch.Tensor, int]:
        proposals = problem.proposals
        if proposals is None:
            raise ValueError(
                "planner 'prior' follows a proposal, but the actor handed none: it needs a policy "
                "(actor.policy_proposals) or a critic with a greedy actor (actor.critic_proposals)"
            )
        P, k = proposals.shape[1], self.config.proposal
        if not -P <= k < P:
            raise ValueError(f"planner 'prior' was asked for proposal {k}, but the actor handed {P} (indices -{P}..{P - 1})")
        actions = proposals[:, k]  # (B, H, A)
        with torch.no_grad():
            cost = self.evaluate(problem, actions.unsqueeze(1))[:, 0]  # (B,)
        return actions, cost, 1
