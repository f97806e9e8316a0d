"""Which goal energy knows the maze: each one's ranking of cell pairs against the shortest path.

    python -m benchmarks.diagnostics.maze_distance runs/hierarchy/pointmaze_medium_critic.pt \\
        --config configs/pointmaze_medium_hier.yaml --json runs/maze_distance.json

For every ordered pair of free cells of the config's maze (the ball at rest at the first
cell's centre, the goal at the second's), three goal energies of a trained agent:

- ``latent``: the latent distance ``||s - g||`` between the ball's latent and the goal's
  (the goal encoder's latent of the goal position);
- ``euclid``: the straight-line distance between the two positions (what the probe's goal
  energy measures when the probe reads positions exactly);
- ``critic``: the agent's critic ``V(s, g)`` (a ``distance`` critic: discounted steps).

Each is ranked against the shortest path between the cells (moves between free neighbour
cells, ``envs.maze_pairs.path_length``) by Spearman's rank correlation, over all pairs and
over the detour pairs alone (a wall on the straight line): there the straight-line energies
point the wrong way, and only an energy that has learned the walls can rank them. Prints
the table and writes ``--json``.
"""

from __future__ import annotations

import numpy as np

from benchmarks import common
from benchmarks.common import spearman


def main(argv: list[str] | None = None) -> dict:
    p = common.parser(__doc__, json_out="optional")
    p.add_argument("checkpoint")
    p.add_argument("--config", required=True, help="the maze task's config (its env)")
    args = p.parse_args(argv)
    common.setup()

    import torch

    from jepa_agent.agent import Agent
    from jepa_agent.agent.environments import make_env
    from jepa_agent.configurator.loading import load_config
    from jepa_agent.envs.maze_pairs import free_cells, line_blocked, path_length

    agent = Agent.load(args.checkpoint)
    if agent.goal_encoder is None:
        raise SystemExit(f"{args.checkpoint}: the agent has no goal encoder (a maze's goal is a desired_goal position)")
    env = make_env(load_config(args.config))
    maze_map = env.unwrapped.maze.maze_map
    cells = free_cells(maze_map)
    C = len(cells)
    observations = [env.reset(seed=0, options={"reset_cell": np.array(c), "goal_cell": np.array(cells[0])})[0]
                    for c in cells]
    env.close()
    batch = {k: np.stack([o[k] for o in observations]) for k in agent.input_shapes}
    with torch.no_grad():
        s = agent.world_model.encode(agent._tensors(agent._adapt(batch)))  # (C, D)
        g = agent.goal_encoder(torch.as_tensor(batch["achieved_goal"], device=agent.device).float())  # (C, D)
        S, G = s[:, None].expand(C, C, -1), g[None].expand(C, C, -1)  # (C, C, D) all pairs
        energies = {"latent": (S - G).norm(dim=-1).cpu().numpy()}
        if agent.critic is not None:
            energies["critic"] = agent.critic.value(S, G).cpu().numpy()
    xy = batch["achieved_goal"]
    energies["euclid"] = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    path = np.array([[path_length(maze_map, a, b) for b in cells] for a in cells], dtype=float)  # (C, C)
    blocked = np.array([[line_blocked(maze_map, a, b) for b in cells] for a in cells])  # (C, C)
    pairs = ~np.eye(C, dtype=bool)
    critic_name = type(agent.critic).__name__ if agent.critic is not None else None
    result = {"checkpoint": args.checkpoint, "env": agent.config.task.env, "cells": C, "critic": critic_name,
              "pairs": int(pairs.sum()), "detour_pairs": int((pairs & blocked).sum()), "spearman": {}}
    print(f"{'energy':8s} {'all pairs':>10s} {'detour pairs':>13s}")
    for name, e in energies.items():
        rho = {"all": spearman(e[pairs], path[pairs]), "detour": spearman(e[pairs & blocked], path[pairs & blocked])}
        result["spearman"][name] = rho
        print(f"{name:8s} {rho['all']:10.3f} {rho['detour']:13.3f}")
    if args.json:
        common.write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
