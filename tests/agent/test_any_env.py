"""The agent on any Gymnasium env: reward tasks, goal envs without a goal observation, the
env contract checked up front, per-env episode ends, exact step budgets, action repeat."""

import tempfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from jepa_agent.actor import ActorConfig
from jepa_agent.agent import Agent
from jepa_agent.agent.spaces import adapt_observation, inspect_env
from jepa_agent.configurator import (
    AgentConfig,
    ExplorationConfig,
    ModuleSpec,
    TaskSpec,
    TrainingConfig,
)
from tests.agent.toy_envs import GoalLine, Image, Line


def tiny(task: dict | None = None, **training) -> AgentConfig:
    """A small agent; ``training`` holds fields of TrainingConfig and of its exploration section."""
    exploration = {k: training.pop(k) for k in list(training) if k in ExplorationConfig.model_fields}
    training = {"batch_size": 16, "window": 3, "random_steps": 40, "pretrain_updates": 5, **training,
                "exploration": exploration}
    return AgentConfig(
        task=TaskSpec(
            planner=ModuleSpec(name="cem", options={"samples": 32, "iterations": 1, "elites": 8}),
            actor=ActorConfig(horizon=4),
            **(task or {}),
        ),
        encoder=ModuleSpec(name="mlp", options={"latent_dim": 8, "hidden_dim": 32}),
        world_model=ModuleSpec(name="jepa", options={"hidden_dim": 32}),
        critic=ModuleSpec(name="mlp", options={"hidden_dim": 32}),
        policy=ModuleSpec(name="mlp", options={"hidden_dim": 32}),
        task_cost=ModuleSpec(name="mlp", options={"hidden_dim": 32}),
        goal_encoder=ModuleSpec(name="mlp", options={"hidden_dim": 32}),
        training=TrainingConfig(**training),
        device="cpu",
        seed=0,
    )


def test_flat_box_env_is_a_reward_task():
    """A flat Box observation is {'observation': ...}; the default objective is the reward, with a learned task cost."""
    env = Line()
    agent = Agent.from_config(tiny(), env)
    assert agent.input_shapes == {"observation": (1,)}
    assert agent.configurator.objective == "reward" and agent.goal_kind == "none"
    assert agent.task_cost is not None and agent.cost.task_cost_weight == 1.0
    agent.reset()
    obs, _ = env.reset(seed=0)
    a = agent.act(obs)
    assert a.shape == (1,) and -1 <= a[0] <= 1


def test_reward_task_trains_the_task_cost_and_the_critic():
    """Training on a reward task fits the task cost (its error falls) and a signed critic; a
    planned rollout on the learned model moves the point toward the rewarded x = 0.5."""
    envs = [Line(length=20) for _ in range(2)]
    agent = Agent.from_config(tiny(random_steps=600, pretrain_updates=600), envs[0])
    history = agent.train(envs, 602)
    rmse = [u["task_cost_rmse"] for u in history["updates"]]
    assert np.mean(rmse[-20:]) < 0.25 * np.mean(rmse[:20])
    assert not agent.critic.nonnegative  # a reward's cost may be negative
    result = agent.evaluate(Line(length=20), 4, seed=100)
    random_return = np.mean([e["return"] for e in history["episodes"] if e["random"]])
    assert result["mean_return"] > random_return + 5.0  # random: about -11, planned: about -2


def test_goal_env_without_goal_observation_uses_desired_goal():
    """A dict env with desired_goal but no goal_observation() is a goal task whose goal
    latent comes from the goal encoder; success is read from info['success']."""
    envs = [GoalLine() for _ in range(2)]
    agent = Agent.from_config(tiny(), envs[0])
    assert agent.configurator.objective == "goal" and agent.goal_kind == "desired_goal"
    history = agent.train(envs, 120)
    assert any("goal_encoder_loss" in u for u in history["updates"])
    assert all(e["success"] in (0.0, 1.0) for e in history["episodes"])
    result = agent.evaluate(GoalLine(), 2, seed=7)
    assert result["success_rate_final"] in (0.0, 0.5, 1.0) and result["success_rate_any"] >= result["success_rate_final"]
    for r in result["records"]:  # no info["distance"]: the distance of achieved_goal to desired_goal
        assert np.isfinite(r["final_distance"]) and (r["final_distance"] < 0.1) == (r["success_final"] == 1.0)


def test_goal_energy_of_a_desired_goal_is_read_by_the_probe():
    """goal_space auto: the probe's distance for a goal env without a goal observation, the
    latent distance for a goal observation; an explicit latent is kept."""
    kinds = lambda agent: [type(t).__name__ for t, _ in agent.cost.terms]  # noqa: E731
    assert kinds(Agent.from_config(tiny(), GoalLine()))[0] == "ProbeGoalDistance"
    latent = Agent.from_config(tiny({"cost": {"goal_space": "latent"}}), GoalLine())
    assert kinds(latent)[0] == "LatentGoalDistance"
    hier = tiny()
    hier = hier.model_copy(update={
        "task": hier.task.model_copy(update={"planner": ModuleSpec(name="hierarchical", options={"macro_steps": 2})}),
        "coarse_world_model": ModuleSpec(name="jepa", options={"k": 2, "macro_dim": 2}),
    })
    assert kinds(Agent.from_config(hier, GoalLine()))[0] == "LatentGoalDistance"  # subgoals are latents
    reach = Agent.from_config(tiny({"env": "jepa_agent/Reach2D-v0"}), gym.make("jepa_agent/Reach2D-v0"))
    assert reach.goal_kind == "observation" and kinds(reach)[0] == "LatentGoalDistance"
    agent = Agent.from_config(tiny(), GoalLine())
    agent.reset(agent.task.model_copy(update={"cost": agent.task.cost.model_copy(update={"goal_space": "latent"})}))
    assert kinds(agent)[0] == "LatentGoalDistance"


def test_episodes_end_per_env():
    """Envs of different episode lengths in one batch each store whole episodes of their own length."""
    envs = [Line(length=5), Line(length=7)]
    agent = Agent.from_config(tiny(random_steps=10_000), envs[0])
    history = agent.train(envs, 70)
    lengths = sorted(set(agent.replay.episode_lengths().tolist()))
    assert lengths == [5, 7]
    assert sorted({e["length"] for e in history["episodes"]}) == [5, 7]
    assert agent.env_steps == 70


def test_terminated_episodes_are_flagged():
    """An episode that terminates (not truncates) is stored as terminated, so the critic does not bootstrap past it."""
    envs = [Line(length=200, terminate_beyond=0.3) for _ in range(2)]
    agent = Agent.from_config(tiny(random_steps=10_000, random_repeat=50), envs[0])
    history = agent.train(envs, 200)
    terminated = [e for e in history["episodes"] if e["terminated"]]
    assert terminated, "random actions held 50 steps leave |x| < 0.3"
    batch = agent.replay.sample(500, 1, rng=np.random.default_rng(0))
    assert batch["terminals"].any()


def test_termination_is_modelled_only_where_episodes_terminate():
    """The task cost predicts episode ends (and planning uses them) once the replay holds a
    terminated episode; on an env that only truncates it stays off."""
    envs = [Line(length=200, terminate_beyond=0.3) for _ in range(2)]
    agent = Agent.from_config(tiny(random_steps=300, random_repeat=50, pretrain_updates=20), envs[0])
    history = agent.train(envs, 310)
    assert agent.replay.num_terminated > 0 and agent.task_cost.termination_active
    assert any("terminal_bce" in u for u in history["updates"])
    s = torch.zeros(1, 4, agent.world_model.latent_dim)
    assert agent.cost.termination(s).shape == (1, 4)
    calm = [Line(length=20) for _ in range(2)]
    agent = Agent.from_config(tiny(random_steps=60, pretrain_updates=5), calm[0])
    history = agent.train(calm, 70)
    assert agent.replay.num_terminated == 0 and not agent.task_cost.termination_active
    assert agent.cost.termination(s) is None
    assert not any("terminal_bce" in u for u in history["updates"])


@pytest.mark.parametrize("steps", [1, 9, 10, 33])
def test_steps_budget_is_exact_within_one_lockstep(steps):
    """train(envs, N) runs N env steps, rounded up to a whole step of the B envs (here B=2)."""
    envs = [Line(length=5), Line(length=5)]
    agent = Agent.from_config(tiny(random_steps=10_000), envs[0])
    agent.train(envs, steps)
    assert steps <= agent.env_steps < steps + 2


def test_train_in_chunks_equals_one_call():
    """Training 60 steps in chunks of 20 ends with the same parameters as one call (running episodes continue)."""
    def run(chunks):
        envs = [Line(length=7), Line(length=9)]
        agent = Agent.from_config(tiny(random_steps=20, pretrain_updates=3), envs[0])
        for n in chunks:
            agent.train(envs, n)
        return agent

    a, b = run([60]), run([20, 20, 20])
    assert a.env_steps == b.env_steps == 60 and a.updates == b.updates
    for x, y in zip(a.world_model.parameters(), b.world_model.parameters(), strict=True):
        assert torch.equal(x, y)


def test_action_repeat_counts_env_steps_and_sums_rewards():
    """action_repeat=3 applies each action 3 env steps: env steps count the env's steps, rewards are summed."""
    class Unit(Line):
        def step(self, action):
            obs, _, term, trunc, info = super().step(action)
            return obs, 1.0, term, trunc, info

    env = Unit(length=9)
    agent = Agent.from_config(tiny({"action_repeat": 3}, random_steps=10_000), env)
    history = agent.train([env], 18)
    assert agent.env_steps == 18
    assert [(e["length"], e["return"]) for e in history["episodes"]] == [(9, 9.0), (9, 9.0)]
    assert agent.replay.episode_lengths().tolist() == [3, 3]  # agent steps per episode


def test_success_criterion_final_or_any():
    """Evaluation reports success at the final step and at any step; task.success picks success_rate."""
    class Once(Line):
        def step(self, action):
            obs, r, term, trunc, _ = super().step(action)
            return obs, r, term, trunc, {"is_success": float(self.t == 2)}

    for criterion, expected in (("final", 0.0), ("any", 1.0)):
        agent = Agent.from_config(tiny({"success": criterion}), Once(length=4))
        result = agent.evaluate(Once(length=4), 2)
        assert result["success_rate_final"] == 0.0 and result["success_rate_any"] == 1.0
        assert result["success_rate"] == expected


class _Spaces:
    def __init__(self, observation_space, action_space):
        self.observation_space, self.action_space = observation_space, action_space


BOX = spaces.Box(-1.0, 1.0, (2,), np.float32)


@pytest.mark.parametrize(
    ("obs_space", "act_space", "message"),
    [
        (BOX, spaces.Discrete(3), "action space is Discrete(3); supported: a 1-D Box"),
        (BOX, spaces.Box(-np.inf, np.inf, (2,), np.float32), "unbounded entries"),
        (BOX, spaces.Box(-1, 1, (2, 2), np.float32), "supported: a 1-D Box"),
        (spaces.Discrete(4), BOX, "observation space is Discrete(4); supported: a Box observation"),
        (spaces.Dict({"x": spaces.Discrete(2)}), BOX, "observation entry 'x' is Discrete(2): the MLP encoder reads Box"),
        (spaces.Box(0, 1, (4, 5, 6), np.float32), BOX, "3-D float32"),
    ],
)
def test_unsupported_spaces_are_refused_up_front(obs_space, act_space, message):
    """Discrete or unbounded actions and observations the agent cannot encode fail before training, naming the space."""
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Agent.from_config(tiny(), _Spaces(obs_space, act_space))


def test_channels_last_images_are_transposed():
    """A uint8 (H, W, C) image observation reaches the encoder as (C, H, W) under 'pixels'."""
    spec = inspect_env(Image())
    assert spec.input_shapes == {"pixels": (3, 8, 8)} and spec.hwc_keys == ("pixels",)
    obs = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    out = adapt_observation(obs, spec.hwc_keys)["pixels"]
    assert out.shape == (3, 8, 8) and out[1, 2, 4] == obs[2, 4, 1]
    cfg = tiny().model_copy(update={"encoder": ModuleSpec(name="conv", options={"latent_dim": 8})})
    agent = Agent.from_config(cfg, Image())
    agent.reset()
    assert agent.act(Image().reset(seed=0)[0]).shape == (1,)
    envs = [Image(), Image()]
    agent.train(envs, 20)  # the loops hand channels-last frames through once, not twice
    assert agent.replay.obs_spec["pixels"][0] == (3, 8, 8)
    assert agent.evaluate(Image(), 1)["records"][0]["length"] == 5


def test_goal_task_on_an_env_without_any_goal_is_refused():
    """objective=goal on an env with neither goal_observation() nor desired_goal says what is missing."""
    with pytest.raises(ValueError, match="needs the env's goal_observation\\(\\) or observations with achieved_goal"):
        Agent.from_config(tiny({"objective": "goal"}), Line())


def test_gymnasium_reacher_runs_with_no_wrapper():
    """Gymnasium's Reacher-v5 (torque-driven, reward-defined, flat Box) trains and evaluates as it is."""
    envs = [gym.make("Reacher-v5") for _ in range(2)]
    agent = Agent.from_config(tiny(), envs[0])
    agent.train(envs, 150)
    result = agent.evaluate(gym.make("Reacher-v5"), 1)
    assert agent.env_steps == 150 and np.isfinite(result["mean_return"]) and np.isnan(result["success_rate"])


def test_stored_actions_are_the_executed_ones():
    """Replayed transitions obey the env's dynamics x' = x + 0.1 a with the stored action (random and planner phases)."""
    envs = [Line(length=6), Line(length=6)]
    agent = Agent.from_config(tiny(random_steps=36, pretrain_updates=2), envs[0])
    agent.train(envs, 72)
    b = agent.replay.sample(300, 1, rng=np.random.default_rng(0))
    x = b["obs"]["observation"][:, :, 0]  # (B, 2)
    np.testing.assert_allclose(x[:, 1] - x[:, 0], 0.1 * b["actions"][:, 0, 0], atol=1e-5)
    np.testing.assert_allclose(b["costs"][:, 0], np.abs(x[:, 1] - 0.5), atol=1e-5)


def test_task_decides_the_defaults_left_open():
    """Options left None follow the objective (temporal smoothness, a signed critic); values a user sets are kept."""
    reward = Agent.from_config(tiny(), Line())
    assert reward.world_model.config.temporal_coef == 0.0 and reward.critic.nonnegative is False
    goal = Agent.from_config(tiny(), GoalLine())
    assert goal.world_model.config.temporal_coef == 1.0 and goal.critic.nonnegative is True
    cfg = tiny().model_copy(update={
        "world_model": ModuleSpec(name="jepa", options={"hidden_dim": 32, "temporal_coef": 0.3}),
        "critic": ModuleSpec(name="mlp", options={"hidden_dim": 32, "nonnegative": True}),
    })
    kept = Agent.from_config(cfg, Line())
    assert kept.world_model.config.temporal_coef == 0.3 and kept.critic.nonnegative is True


def test_adapting_an_adapted_observation_changes_nothing():
    """With the agent's shapes, a channels-first entry is left alone, even for square images (C != H)."""
    spec = inspect_env(Image())
    obs = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    once = adapt_observation(obs, spec.hwc_keys, spec.input_shapes)
    twice = adapt_observation(once, spec.hwc_keys, spec.input_shapes)
    assert np.array_equal(once["pixels"], twice["pixels"]) and once["pixels"].shape == (3, 8, 8)


def test_route_hands_the_planner_landmarks_on_the_way_then_the_goal():
    """task.route: at a new desired_goal the agent's subgoals are landmarks of its replay
    between where it is and the goal, in order, and the goal last; they switch as each is reached."""
    envs = [GoalLine() for _ in range(2)]
    agent = Agent.from_config(tiny({"route": True, "route_spacing": 0.1, "subgoal_threshold": 0.05}), envs[0])
    agent.train(envs, 120)  # random steps only: a walk around x = 0
    reach = float(np.abs(np.concatenate([ep["obs"]["achieved_goal"] for ep in agent.replay.episodes()])).max())
    goal = 0.6 * reach
    agent.reset()
    obs = {"observation": np.zeros(1, np.float32), "achieved_goal": np.zeros(1, np.float32),
           "desired_goal": np.array([goal], np.float32)}
    agent.act(obs)
    levels = [float(g["desired_goal"][0, 0]) for g in agent.configurator.goal_state()["obs"]]
    assert len(levels) >= 3 and levels[-1] == pytest.approx(goal)
    assert all(0.0 < a < b for a, b in zip(levels[:-2], levels[1:-1], strict=True)) and levels[-2] < goal + 0.1
    assert int(agent.configurator.goal_index[0]) == 0
    first = levels[0]
    agent.act({**obs, "observation": np.array([first], np.float32), "achieved_goal": np.array([first], np.float32)})
    assert int(agent.configurator.goal_index[0]) == 1  # the first landmark reached: the next one


def test_route_every_step_starts_from_where_the_agent_is():
    """task.route_every=1: each step's route starts at the landmark nearest the agent, so after
    a jump past half the way its first subgoal lies beyond the jump, not back at the start."""
    envs = [GoalLine() for _ in range(2)]
    agent = Agent.from_config(tiny({"route": True, "route_spacing": 0.1, "route_every": 1}), envs[0])
    agent.train(envs, 120)
    reach = float(np.abs(np.concatenate([ep["obs"]["achieved_goal"] for ep in agent.replay.episodes()])).max())
    goal = np.array([0.8 * reach], np.float32)
    agent.reset()
    at = lambda x: {"observation": np.array([x], np.float32), "achieved_goal": np.array([x], np.float32),  # noqa: E731
                    "desired_goal": goal}
    agent.act(at(0.0))
    before = len(agent.configurator.goal_state()["obs"])
    agent.act(at(0.5 * reach))
    levels = [float(g["desired_goal"][0, 0]) for g in agent.configurator.goal_state()["obs"]]
    assert len(levels) < before and levels[0] > 0.5 * reach - 0.1


def test_route_with_an_empty_replay_goes_straight_to_the_goal():
    """task.route before anything is stored: the goal is the only subgoal."""
    agent = Agent.from_config(tiny({"route": True}), GoalLine())
    agent.reset()
    obs, _ = GoalLine().reset(seed=0)
    agent.act(obs)
    assert agent.landmarks() is None and len(agent.configurator.goal_state()["obs"]) == 1


def test_a_new_critic_is_fitted_on_the_replay_and_saved():
    """new_critic swaps in a fresh critic of another kind (a temporal distance), update_critic
    fits it alone on the replay, and the agent saves and loads it; a discount that differs from
    the task's is refused before anything is built."""
    envs = [GoalLine() for _ in range(2)]
    agent = Agent.from_config(tiny(), envs[0])
    agent.train(envs, 120)
    before = {k: v.clone() for k, v in agent.world_model.state_dict().items()}
    agent.new_critic(ModuleSpec(name="distance", options={"gamma": 0.9, "hidden_dim": 16, "layers": 1}))
    losses = [agent.update_critic()["critic_loss"] for _ in range(30)]
    assert type(agent.critic).__name__ == "DistanceCritic" and np.isfinite(losses).all()
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert all(torch.equal(v, agent.world_model.state_dict()[k]) for k, v in before.items())  # the model is untouched
    loaded = Agent.load(agent.save(Path(tempfile.mkdtemp()) / "a.pt"))
    assert type(loaded.critic).__name__ == "DistanceCritic"
    with pytest.raises(ValueError, match="gamma"):
        agent.new_critic(ModuleSpec(name="distance", options={"gamma": 0.99}))


def test_critic_window_gives_the_critic_a_contiguous_part_of_each_window():
    """training.critic_window=k: the critic's loss sees k steps of each replayed window, the
    same steps in its states, actions, costs and terminals (state t+1 follows action t), each
    window's part starting where it draws; the world model still learns on the whole window."""
    envs = [Line(length=20) for _ in range(2)]
    agent = Agent.from_config(tiny(random_steps=100, pretrain_updates=0, window=5, critic_window=2), envs[0])
    agent.train(envs, 100)
    seen = {}
    loss = agent.critic.loss

    def spy(batch):
        seen.update(batch)
        return loss(batch)

    agent.critic.loss = spy
    sample = agent.replay.sample(16, 5, rng=np.random.default_rng(0))
    agent.learner.update(sample)
    states, actions, costs, terminals = seen["states"], seen["actions"], seen["costs"], seen["terminals"]
    assert states.shape[:2] == (16, 3) and actions.shape[:2] == costs.shape == terminals.shape == (16, 2)
    # find each part in its window by its states (Line's position changes every step)
    obs = torch.as_tensor(sample["obs"]["observation"], dtype=states.dtype)  # (16, 6, 1)
    full = agent.world_model.encode_target({"observation": obs.reshape(-1, 1)}).reshape(16, 6, -1)
    starts = []
    for b in range(16):
        hits = [s for s in range(4) if torch.allclose(full[b, s:s + 3], states[b], atol=1e-6)]
        assert len(hits) == 1
        s = hits[0]
        starts.append(s)
        assert torch.equal(torch.as_tensor(sample["actions"][b, s:s + 2], dtype=actions.dtype), actions[b])
        # the costs of the whole window (the smoothness term reads the step before), then cut
        acts = torch.as_tensor(sample["actions"][b:b + 1], dtype=actions.dtype)  # (1, 5, A)
        fixed = agent.cost.fixed(full[b:b + 1, 1:], acts, seen["goals"][b:b + 1])[0, s:s + 2]  # (2,)
        assert torch.allclose(torch.as_tensor(sample["costs"][b, s:s + 2], dtype=costs.dtype) + fixed, costs[b], atol=1e-5)
        assert torch.equal(torch.as_tensor(sample["terminals"][b, s:s + 2]), terminals[b].cpu())
    assert len(set(starts)) > 1  # each window draws its own start


@pytest.mark.parametrize("k", [1, 3])
def test_critic_updates_takes_k_critic_steps_the_first_on_the_updates_windows(k):
    """training.critic_updates=k: one update makes k critic steps and one of every other
    module; the first critic step learns on the update's windows, the others on fresh ones."""
    envs = [Line(length=20) for _ in range(2)]
    agent = Agent.from_config(tiny(random_steps=100, pretrain_updates=0, window=5, critic_updates=k), envs[0])
    agent.train(envs, 100)
    calls, loss = [], agent.critic.loss
    policy_calls, policy_loss = [], agent.policy.loss

    def spy(batch):
        calls.append(batch["actions"].clone())
        return loss(batch)

    def policy_spy(batch):
        policy_calls.append(1)
        return policy_loss(batch)

    agent.critic.loss, agent.policy.loss = spy, policy_spy
    sample = agent.replay.sample(16, 5, rng=np.random.default_rng(0))
    sample["planner_mask"][:] = True  # the policy learns on planner steps
    before = agent.updates
    agent.learner.update(sample)
    assert len(calls) == k and len(policy_calls) == 1 and agent.updates == before + 1
    assert torch.equal(calls[0], torch.as_tensor(sample["actions"], dtype=calls[0].dtype))
    assert all(not torch.equal(c, calls[0]) for c in calls[1:])
