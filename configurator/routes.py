"""Routes through memory (``task.route``): subgoals along the replay's landmark graph.

A goal far across a maze is reached by way of landmarks: :class:`Router` keeps the
:class:`~jepa_agent.memory.LandmarkGraph` of where the replayed episodes went (rebuilt as the
replay grows), decides when to route again (a new goal, or every ``task.route_every`` steps),
and turns each env's route from its achieved goal to the goal into subgoal levels for the
configurator's goal sequence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from jepa_agent.configurator.config import TaskSpec
from jepa_agent.memory import LandmarkGraph, ReplayBuffer

__all__ = ["Router"]

log = logging.getLogger(__name__)

ToTensors = Callable[[Mapping[str, np.ndarray]], dict[str, torch.Tensor]]


class Router:
    """The landmark graph of a replay and the routes through it (see the module docstring).

    ``to_tensors``: observations as the encoder reads them. A ``goal_kind`` of
    ``observation`` makes subgoals landmark observations; ``desired_goal``, landmark points.
    """

    def __init__(self, to_tensors: ToTensors, device: torch.device) -> None:
        self.to_tensors, self.device = to_tensors, device
        self._graph: LandmarkGraph | None = None
        self._graph_steps, self._graph_spacing = 0, 0.0  # the replay's steps and the spacing it was built with
        self._routed: torch.Tensor | None = None  # (B, G) the goals the current routes lead to
        self._age = 0  # steps since the routes were found

    def forget(self) -> None:
        """New goals: the next step routes again."""
        self._routed = None

    def landmarks(self, replay: ReplayBuffer, task: TaskSpec, goal_kind: str) -> LandmarkGraph | None:
        """The map of the replay's achieved goals, rebuilt when the replay has grown by a tenth
        since it was made (or ``task.route_spacing`` changed); None while the replay is empty
        (routes then go straight to the goal)."""
        steps = replay.num_steps
        if steps == 0:
            return None
        if self._graph is None or steps > 1.1 * self._graph_steps or self._graph_spacing != task.route_spacing:
            # one pass for the positions, a second for the few landmark observations (an image
            # replay is never held whole)
            graph = LandmarkGraph.from_paths([ep["obs"]["achieved_goal"] for ep in replay.episodes()],
                                             spacing=task.route_spacing)
            if goal_kind == "observation":
                graph.gather_observations(ep["obs"] for ep in replay.episodes())
            self._graph = graph
            self._graph_steps, self._graph_spacing = steps, task.route_spacing
            log.info("landmark graph: %d landmarks, %d passages from %d replayed steps",
                     len(graph), graph.num_edges, steps)
        return self._graph

    def due(self, point: torch.Tensor, every: int | None) -> bool:
        """Whether to find new routes this step (to the goals ``point`` (B, G)): a new goal,
        or ``every`` steps since the last routes. Counts the step."""
        self._age += 1
        due = (self._routed is None or self._routed.shape != point.shape or not torch.equal(self._routed, point)
               or (every is not None and self._age >= every))
        if due:
            self._routed, self._age = point.clone(), 0
        return due

    def route(
        self, graph: LandmarkGraph | None, t_obs: Mapping[str, torch.Tensor], point: torch.Tensor,
        final: Mapping[str, torch.Tensor], goal_kind: str,
    ) -> list[dict[str, Any]]:
        """Subgoal levels along each env's route through ``graph`` from its achieved goal to
        ``point``, ending with ``final`` (the goal itself); a shorter route repeats its goal to
        fill the levels.

        Shapes: t_obs {key: (B, ...)}, point (B, G), final {key: (B, ...)} -> L levels {key: (B, ...)}."""
        if graph is None:
            return [dict(final)]
        starts, ends = t_obs["achieved_goal"].cpu().numpy(), point.cpu().numpy()
        routes = [graph.route(a, b) for a, b in zip(starts, ends, strict=True)]
        levels = []
        for level in range(max((len(r) for r in routes), default=0)):
            rows = [r[level] if level < len(r) else -1 for r in routes]  # -1: this env's route has ended
            if goal_kind == "desired_goal":
                pts = torch.as_tensor(graph.points[rows], device=self.device)  # (B, G)
                entry = {"desired_goal": pts}
            else:
                entry = self.to_tensors({k: v[rows] for k, v in graph.observations.items()})
            done = torch.tensor([r < 0 for r in rows], device=self.device)  # (B,)
            levels.append({k: torch.where(done.reshape(-1, *[1] * (v.ndim - 1)), final[k].to(v.dtype), v)
                           for k, v in entry.items()})
        return [*levels, dict(final)]
