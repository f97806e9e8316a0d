"""Unit tests for agent.Agent on Reach2D with a tiny configuration."""

import os

import gymnasium as gym
import numpy as np
import pytest
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.actor import ActorConfig
from jepa_agent.agent import Agent
from jepa_agent.agent.checkpoint import read_checkpoint, write_file
from jepa_agent.configurator import AgentConfig, ModuleSpec, TaskSpec, TrainingConfig
from jepa_agent.memory import to_torch

A = 2


def tiny_config(**training) -> AgentConfig:
    return AgentConfig(
        task=TaskSpec(
            planner=ModuleSpec(name="cem", options={"samples": 32, "iterations": 1, "elites": 8}),
            actor=ActorConfig(horizon=4),
        ),
        encoder=ModuleSpec(name="mlp", options={"latent_dim": 16, "hidden_dim": 32}),
        world_model=ModuleSpec(name="jepa", options={"hidden_dim": 32}),
        critic=ModuleSpec(name="mlp", options={"hidden_dim": 32}),
        policy=ModuleSpec(name="mlp", options={"hidden_dim": 32}),
        training=TrainingConfig(batch_size=16, window=3, **training),
        device="cpu",
    )


@pytest.fixture()
def env():
    e = gym.make("jepa_agent/Reach2D-v0")
    yield e
    e.close()


@pytest.fixture()
def agent(env):
    torch.manual_seed(0)
    return Agent.from_config(tiny_config(), env)


def start(agent, env, seed=0):
    obs, info = env.reset(seed=seed)
    agent.reset(goal=info["goal_observation"])
    return obs


def in_bounds(a) -> bool:
    return bool(np.all(a >= -1.0) and np.all(a <= 1.0))


def test_act_single_and_batched(agent, env):
    """act returns (A,) for one observation and (B, A) for a batch of 3, inside the bounds."""
    obs = start(agent, env)
    a = agent.act(obs)
    assert a.shape == (A,) and in_bounds(a)
    batch, goals = [], []
    for seed in range(3):
        o, info = env.reset(seed=seed)
        batch.append(o)
        goals.append(info["goal_observation"])
    stack = lambda xs: {k: np.stack([x[k] for x in xs]) for k in xs[0]}  # noqa: E731
    agent.reset(goal=stack(goals))
    a = agent.act(stack(batch))
    assert a.shape == (3, A) and in_bounds(a)


def test_wrong_observation_shape_rejected(agent, env):
    """An observation of the wrong shape raises ValueError quoting expected and got."""
    obs = start(agent, env)
    bad = {k: v for k, v in obs.items()}
    bad["observation"] = np.zeros(5, dtype=np.float32)
    with pytest.raises(ValueError, match=r"8.*got.*5"):
        agent.act(bad)
    bad = {k: np.zeros(7, dtype=np.float32) for k in obs}
    with pytest.raises(ValueError, match=r"got \(7,\)"):
        agent.act(bad)


def test_nan_observation_rejected(agent, env):
    """A NaN observation raises ValueError instead of producing a NaN action."""
    obs = start(agent, env)
    obs["observation"] = obs["observation"].copy()
    obs["observation"][0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        agent.act(obs)


def test_non_numeric_observation_rejected(agent, env):
    """Strings or objects where numbers belong: a TypeError naming the key and the dtype."""
    obs = start(agent, env)
    obs["observation"] = obs["observation"].astype(str)
    with pytest.raises(TypeError, match=r"observation\['observation'\].*dtype <U"):
        agent.act(obs)


def test_act_before_reset_raises(agent, env):
    """act before reset raises RuntimeError."""
    obs, _ = env.reset(seed=0)
    with pytest.raises(RuntimeError, match="reset"):
        agent.act(obs)


def test_episode_end_stores_episode_with_planner_mask(agent, env):
    """observe with done=True stores the episode in replay with which actions the planner chose."""
    obs = start(agent, env)
    a = agent.act(obs)
    obs, r, *_ = env.step(a)
    agent.observe(obs, r, False)
    assert agent.replay.num_episodes == 0
    a = agent.act(obs, mode="random")
    obs, r, *_ = env.step(a)
    agent.observe(obs, r, True)
    assert agent.replay.num_episodes == 1 and agent.replay.num_steps == 2
    assert agent.env_steps == 2
    s = agent.replay.sample(4, 2, rng=np.random.default_rng(0))
    assert s["planner_mask"].tolist() == [[True, False]] * 4
    assert s["obs"]["observation"].shape == (4, 3, 8)


def test_observe_before_act_raises(agent, env):
    """observe without a preceding act raises RuntimeError."""
    obs = start(agent, env)
    with pytest.raises(RuntimeError):
        agent.observe(obs, 0.0, False)


def fill_replay(agent, env, episodes=2, steps=5):
    for ep in range(episodes):
        obs = start(agent, env, seed=ep)
        for t in range(steps):
            a = agent.act(obs)
            obs, r, *_ = env.step(a)
            agent.observe(obs, r, t == steps - 1)


def test_update_returns_finite_metrics(agent, env):
    """update() returns finite world-model, critic and policy metrics and counts updates."""
    fill_replay(agent, env)
    info = agent.update()
    for key in ("embed_std", "embed_rank", "pred_loss", "critic_loss", "policy_loss"):
        assert key in info and np.isfinite(info[key]), key
    assert agent.updates == 1


def params(module) -> dict:
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_refit_predictor_trains_the_predictor_alone_and_lowers_its_loss(agent, env):
    """``refit_predictor`` changes the predictor's weights only (encoders, target, heads,
    critic, policy as they were) and lowers its refit loss on the replay; bad arguments and
    a distributed agent are refused."""
    fill_replay(agent, env, episodes=4, steps=8)
    wm = agent.world_model
    before = {"wm": params(wm), "critic": params(agent.critic), "policy": params(agent.policy)}
    predictor = {n for n, p in wm.named_parameters() if any(p is q for q in wm.predictor_parameters())}
    assert predictor and all(n.startswith(("in_state", "in_action", "body")) for n in predictor)
    info = agent.refit_predictor(150, lr=3e-3)
    assert info["refit_loss_last"] < 0.5 * info["refit_loss_first"]
    after = params(wm)
    for name, value in before["wm"].items():
        assert torch.equal(value, after[name]) != (name in predictor), name
    for module in ("critic", "policy"):
        now = params(getattr(agent, module))
        assert all(torch.equal(v, now[k]) for k, v in before[module].items()), module
    with pytest.raises(ValueError, match="updates >= 1"):
        agent.refit_predictor(0)
    agent.learner._ddp = {"world_model": object()}  # as after distribute()
    with pytest.raises(ValueError, match="one process"):
        agent.refit_predictor(10)


def test_probe_encoder_weight_trains_the_encoder_through_the_probe(env):
    """``training.probe_encoder_weight`` w adds w x the probe's variance-normalised error
    on the online embeddings (by hand) to the world model's loss: from the same seed one
    update moves the encoder differently and the predictor exactly as without it (Adam is
    per weight, nothing clipped); an agent without a probe refuses it."""
    agents = []
    for weight in (0.0, 2.0):
        torch.manual_seed(0)
        agent = Agent.from_config(tiny_config(probe_encoder_weight=weight, grad_clip=1e6), env)
        fill_replay(agent, env, episodes=3, steps=6)
        agents.append(agent)
    plain, shaped = agents
    batch = to_torch(shaped.replay.sample(8, 3, rng=np.random.default_rng(0)), shaped.device)
    wm, probe = shaped.world_model, shaped.probe
    B, T = batch["actions"].shape[:2]
    flat = {k: v.reshape(B * (T + 1), *v.shape[2:]) for k, v in batch["obs"].items()}
    online = wm.encoder(flat).reshape(B, T + 1, -1)
    loss, info = shaped.learner._probe_readout(batch)(online)
    goal = batch["obs"]["achieved_goal"].float()
    var = goal.reshape(-1, goal.shape[-1]).var(0)
    by_hand = 2.0 * ((probe(online) - goal) ** 2 / var).mean()
    torch.testing.assert_close(loss, by_hand)
    assert info["readout_nmse"] == pytest.approx(by_hand.item() / 2, rel=1e-5)
    shaped.world_model.zero_grad()
    probe.zero_grad()
    loss.backward()
    assert all(p.grad is None for p in probe.parameters())  # the probe learns in its own step only
    assert any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in wm.encoder.parameters())

    before = params(shaped.world_model)
    assert all(torch.equal(v, params(plain.world_model)[k]) for k, v in before.items())
    assert "readout_nmse" in shaped.update() and "readout_nmse" not in plain.update()
    moved = {k: {n: p.detach() for n, p in a.world_model.named_parameters()} for k, a in (("plain", plain),
                                                                                      ("shaped", shaped))}
    for name in moved["plain"]:
        if name.startswith("encoder."):
            assert not torch.equal(moved["plain"][name], moved["shaped"][name]), name
        elif name.startswith(("in_state", "in_action", "body")):
            torch.testing.assert_close(moved["plain"][name], moved["shaped"][name], msg=name)
    config = tiny_config(probe_encoder_weight=1.0).model_copy(update={"probe": None})
    with pytest.raises(ValueError, match="probe_encoder_weight=1.0 trains the encoder through the probe"):
        Agent.from_config(config, env)


def test_save_load_round_trip(agent, env, tmp_path):
    """save -> load gives identical parameters and identical act() for the same generator state."""
    fill_replay(agent, env)
    agent.update()
    path = agent.save(tmp_path / "ckpt.pt")
    loaded = Agent.load(path)
    for name in ("world_model", "critic", "policy"):
        a, b = params(getattr(agent, name)), params(getattr(loaded, name))
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    for k, v in agent.critic._target().state_dict().items():
        assert torch.equal(v, loaded.critic._target().state_dict()[k])
    assert (loaded.updates, loaded.env_steps) == (agent.updates, agent.env_steps)
    acts = []
    for ag in (agent, loaded):
        obs = start(ag, env, seed=5)
        ag.generator.manual_seed(0)
        acts.append(ag.act(obs))
    np.testing.assert_array_equal(acts[0], acts[1])


def test_save_is_atomic(agent, tmp_path, monkeypatch):
    """save leaves no temp file, and a write that fails (the disk full at fsync) leaves the
    existing checkpoint untouched."""
    path = tmp_path / "ckpt.pt"
    agent.save(path)
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        agent.save(path)
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    assert path.read_bytes() == before


def test_load_with_world_model_options_that_keep_the_weights(env, tmp_path):
    """``world_model_options`` change what the loaded model computes from the same weights
    (the ensemble's mean mixed into its predictions, plans started from the target encoder);
    one that changes a shape is refused."""
    torch.manual_seed(0)
    config = tiny_config()
    wm = config.world_model.model_copy(update={"options": {**config.world_model.options, "ensemble_heads": 3}})
    agent = Agent.from_config(config.model_copy(update={"world_model": wm}), env)
    with torch.no_grad():  # the online encoder ahead of its EMA target, as in training
        for p in agent.world_model.encoder.parameters():
            p.add_(0.1 * torch.randn_like(p))
    path = agent.save(tmp_path / "ckpt.pt")
    mixed = Agent.load(path, world_model_options={"ensemble_mix": 0.5})
    assert mixed.world_model.config.ensemble_mix == 0.5 and mixed.config.world_model.options["ensemble_mix"] == 0.5
    a, b = params(agent.world_model), params(mixed.world_model)
    assert all(torch.equal(a[k], b[k]) for k in a)
    s, act = torch.randn(4, 16), torch.rand(4, 2)
    with torch.no_grad():
        assert not torch.allclose(mixed.world_model.step(s, act), agent.world_model.step(s, act))
    from_target = Agent.load(path, world_model_options={"plan_encoder": "target"})
    obs = {k: torch.as_tensor(v)[None] for k, v in env.observation_space.sample().items()}
    torch.testing.assert_close(from_target.world_model.encode(obs), agent.world_model.encode_target(obs))
    assert not torch.allclose(mixed.world_model.encode(obs), from_target.world_model.encode(obs))
    with pytest.raises(ValueError, match="in the checkpoint but"):
        Agent.load(path, world_model_options={"hidden_dim": 48})


def test_load_names_the_module_and_shapes_that_do_not_fit(agent, tmp_path):
    """Weights whose shapes differ from what the config builds: one line naming both."""
    state = read_checkpoint(agent.save(tmp_path / "ckpt.safetensors"))
    key = next(iter(state["critic"]))
    state["critic"][key] = torch.zeros(3, 5)
    write_file(tmp_path / "bad.pt", state)
    with pytest.raises(ValueError, match=rf"critic\.{key} has shape \(3, 5\) in the checkpoint but \(\d+"):
        Agent.load(tmp_path / "bad.pt")
    del state["critic"]
    write_file(tmp_path / "none.pt", state)
    with pytest.raises(ValueError, match="has no critic weights"):
        Agent.load(tmp_path / "none.pt")


def test_load_rejects_non_checkpoint(tmp_path):
    """Agent.load on a file that is not a jepa-agent checkpoint raises ValueError."""
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt"):
        Agent.load(junk)
    other = tmp_path / "other.pt"
    torch.save({"format": "something-else"}, other)
    with pytest.raises(ValueError, match="not a jepa-agent checkpoint"):
        Agent.load(other)
    with pytest.raises(FileNotFoundError):
        Agent.load(tmp_path / "missing.pt")


def test_train_and_evaluate(env):
    """train(env, 300) runs random then planner phases; evaluate returns the documented keys."""
    torch.manual_seed(0)
    agent = Agent.from_config(tiny_config(random_steps=200, pretrain_updates=5), env)
    history = agent.train(env, 300)
    assert agent.env_steps >= 300
    assert agent.updates >= 5 and len(history["updates"]) == agent.updates
    phases = {e["random"] for e in history["episodes"]}
    assert phases == {True, False}
    assert all(np.isfinite(u["pred_loss"]) for u in history["updates"])
    result = agent.evaluate(env, 1)
    assert {
        "success_rate", "mean_final_distance", "mean_return", "episodes",
        "act_ms_median", "act_ms_p90", "records",
    } <= set(result)
    assert result["episodes"] == 1 and len(result["records"]) == 1
    assert 0.0 <= result["success_rate"] <= 1.0 and np.isfinite(result["mean_final_distance"])


def test_seeded_agents_repeat_whatever_the_global_rng(env):
    """Two agents with the same seed get the same initial weights and the same updates, even with the global RNG in different states."""
    torch.manual_seed(1)
    a = Agent.from_config(tiny_config(), env)
    torch.manual_seed(2)
    b = Agent.from_config(tiny_config(), env)
    for x, y in zip(params(a.world_model).values(), params(b.world_model).values(), strict=True):
        assert torch.equal(x, y)
    fill_replay(a, env)
    fill_replay(b, env)
    torch.manual_seed(3)
    a.update()
    torch.manual_seed(4)
    b.update()
    for x, y in zip(params(a.world_model).values(), params(b.world_model).values(), strict=True):
        assert torch.equal(x, y)
    other = Agent.from_config(tiny_config().with_overrides({"seed": 1}), env)
    first = next(k for k in params(other.world_model) if k.endswith("weight"))
    assert not torch.equal(params(other.world_model)[first], params(b.world_model)[first])


def test_agent_leaves_the_global_rng_alone(env):
    """Building and updating an agent does not advance or reseed the caller's global torch RNG."""
    torch.manual_seed(5)
    before = torch.get_rng_state()
    agent = Agent.from_config(tiny_config(), env)
    fill_replay(agent, env)
    agent.update()
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize(("random_steps", "first_update"), [(0, 100), (130, 130), (131, 132)])
def test_random_phase_lasts_random_steps(random_steps, first_update):
    """Random exploration lasts random_steps env steps (one lockstep step of slack), or until a whole episode is stored."""
    envs_ = [gym.make("jepa_agent/Reach2D-v0") for _ in range(2)]  # 50-step episodes, 2 env steps per step
    agent = Agent.from_config(tiny_config(random_steps=random_steps, pretrain_updates=3), envs_[0])
    history = agent.train(envs_, 300)
    assert history["updates"][0]["env_steps"] == first_update
    assert agent.env_steps == 300
    assert agent.updates >= 3 and all(np.isfinite(u["pred_loss"]) for u in history["updates"])


def test_offset_estimate_compares_what_was_executed(env):
    """With ``actor.offset_gain``, the agent tells the actor what was executed: the action
    given to ``observe`` (noise added) replaces the planned one, and a random step leaves
    the actor nothing to compare at its next decision."""
    torch.manual_seed(0)
    config = tiny_config()
    config = config.model_copy(update={"task": config.task.model_copy(update={"actor": ActorConfig(horizon=4, offset_gain=0.5)})})
    agent = Agent.from_config(config, env)
    obs = start(agent, env)
    planned = agent.act(obs)
    noisy = np.clip(planned + 0.3, -1, 1).astype(np.float32)
    obs, reward, term, trunc, _ = env.step(noisy)
    agent.observe(obs, reward, term or trunc, action=noisy)
    assert np.allclose(agent.actor._last[1].numpy()[0], noisy)
    agent.act(obs)
    assert agent.actor.offset.abs().sum() > 0  # the model's error on that step, averaged in
    agent.act(obs, mode="random")
    assert agent.actor._last is None
