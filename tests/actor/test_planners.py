"""Contract and known-answer tests over every built-in planner (configurator.PLANNERS)."""

import pytest
import torch

from jepa_agent.actor import CEM, Actor, ActorConfig, CEMConfig, Planner, PlanProblem
from jepa_agent.configurator import PLANNERS, config_class_of
from jepa_agent.cost import Cost, LatentGoalDistance
from jepa_agent.world_model import WorldModel

LOW, HIGH = torch.tensor([-1.0, -0.5]), torch.tensor([0.5, 2.0])
UNIT = torch.ones(2)
GOAL = torch.tensor([0.5, -0.3])


class PointMass(WorldModel):
    """2-D linear dynamics ``s' = s + 0.1 a + shift * z[..., :2]`` (z shifts the state)."""

    def __init__(self, latent_var_dim: int = 0, shift: float = 0.1) -> None:
        super().__init__()
        self.latent_dim, self.action_dim, self.latent_var_dim = 2, 2, latent_var_dim
        self.shift = shift

    def step(self, s, a, z=None):
        s = s + 0.1 * a
        if z is not None and self.latent_var_dim > 0:
            s = s + self.shift * z[..., :2]
        return s


def quadratic_cost() -> Cost:
    return Cost([(LatentGoalDistance("sq"), 1.0)], gamma=1.0)


def make_planner(name: str, **options) -> Planner:
    cls = PLANNERS.resolve(name)
    cfg_cls = config_class_of(cls)
    # Random shooting never refines its draws; 64 per round are too few to cover the
    # H x A = 10 action dimensions, so it gets 1024 per round.
    base = {"samples": 1024, "iterations": 4} if name == "random" else {"samples": 64, "iterations": 4}
    opts = {**base, **options}
    if "elites" in cfg_cls.model_fields:
        opts.setdefault("elites", 8)
    return cls(cfg_cls.model_validate(opts))


def problem(s0, goal, *, H=5, low=-UNIT, high=UNIT, wm=None, seed=0, **kw) -> PlanProblem:
    return PlanProblem(
        s0=s0, goal=goal, horizon=H, action_low=low, action_high=high,
        world_model=wm or PointMass(), cost=quadratic_cost(),
        generator=torch.Generator().manual_seed(seed), **kw,
    )


def cosine(a, b) -> float:
    return float(torch.nn.functional.cosine_similarity(a, b, dim=-1))


# hierarchical is composed of two of these (tests/actor/test_hierarchical.py); prior searches
# nothing, it follows a proposal (tests/actor/test_prior.py)
NAMES = [n for n in PLANNERS.names if n not in ("hierarchical", "prior")]


def test_registry_has_builtins():
    """The registry lists the built-in sampling planners."""
    assert {"cem", "mppi"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_plan_result_shapes(name):
    """PlanResult has actions (B,H,A), cost (B,), states (B,H,D) and counts iterations."""
    B, H = 3, 6
    res = make_planner(name).plan(problem(torch.zeros(B, 2), GOAL.expand(B, 2), H=H))
    assert res.actions.shape == (B, H, 2)
    assert res.cost.shape == (B,)
    assert res.states.shape == (B, H, 2)
    assert res.iterations == 4
    assert torch.isfinite(res.cost).all()


@pytest.mark.parametrize("name", NAMES)
def test_actions_inside_asymmetric_bounds(name):
    """Planned actions respect asymmetric bounds even when the goal pulls beyond them."""
    B = 2
    goals = torch.tensor([[-9.0, -9.0], [9.0, 9.0]])
    res = make_planner(name).plan(problem(torch.zeros(B, 2), goals, low=LOW, high=HIGH))
    assert (res.actions >= LOW).all() and (res.actions <= HIGH).all()
    # Pulled hard toward opposite corners, the first actions lie on those sides of the box.
    center = (HIGH + LOW) / 2
    assert (res.actions[0, 0] < center).all() and (res.actions[1, 0] > center).all()


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_plan(name):
    """The same generator seed gives the identical plan; another seed a different one."""
    planner = make_planner(name)
    a = planner.plan(problem(torch.zeros(2, 2), GOAL.expand(2, 2), seed=3)).actions
    b = planner.plan(problem(torch.zeros(2, 2), GOAL.expand(2, 2), seed=3)).actions
    c = planner.plan(problem(torch.zeros(2, 2), GOAL.expand(2, 2), seed=4)).actions
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("name", NAMES)
def test_batch_plans_each_env_toward_its_own_goal(name):
    """With B=3 envs and different goals, each plan ends nearest its own goal."""
    goals = torch.tensor([[0.5, -0.3], [-0.4, 0.4], [0.2, 0.5]])
    s0 = torch.zeros(3, 2)
    res = make_planner(name).plan(problem(s0, goals, H=8))
    final = res.states[:, -1]  # (B, D)
    dist = torch.cdist(final, goals)  # (B, B): env i's final state to every goal
    assert torch.equal(dist.argmin(dim=1), torch.arange(3))
    assert (dist.diagonal() < 0.5 * goals.norm(dim=-1)).all()
    for i in range(3):
        assert cosine(res.actions[i, 0], goals[i]) > 0.7


@pytest.mark.parametrize("name", NAMES)
def test_first_action_points_toward_goal(name):
    """From the origin, the first planned action points toward the goal (cosine > 0.9)."""
    res = make_planner(name).plan(problem(torch.zeros(1, 2), GOAL[None]))
    assert cosine(res.actions[0, 0], GOAL) > 0.9


@pytest.mark.parametrize("name", NAMES)
def test_closed_loop_reaches_goal(name):
    """Receding-horizon control on s' = s + 0.1 a with a quadratic cost reaches the goal."""
    wm = PointMass()
    actor = Actor(
        ActorConfig(horizon=5), planner=make_planner(name), world_model=wm,
        cost=quadratic_cost(), action_low=-UNIT, action_high=UNIT,
    )
    gen = torch.Generator().manual_seed(0)
    s = torch.zeros(1, 2)
    for _ in range(30):
        a = actor.act(s, GOAL[None], generator=gen)
        assert a.shape == (1, 2)
        s = wm.step(s, a)
    assert float((s[0] - GOAL).norm()) < 0.05


@pytest.mark.parametrize("name", NAMES)
def test_risk_ordering_over_latent_samples(name):
    """For the same candidates and z samples, CVaR cost >= mean >= optimistic."""
    wm = PointMass(latent_var_dim=2, shift=0.3)
    prob = problem(torch.zeros(2, 2), GOAL.expand(2, 2), wm=wm)
    actions = torch.rand(2, 16, 5, 2) * 2 - 1  # (B, N, H, A)
    z = wm.sample_latent(
        torch.zeros(2, 16, 8, wm.latent_dim), torch.zeros(2, 16, 8, 5, wm.action_dim), torch.Generator().manual_seed(1)
    )  # (B, N, K, H, Z)
    costs = {
        risk: make_planner(name, latent_samples=8, risk=risk).evaluate(prob, actions, z)
        for risk in ("cvar", "mean", "optimistic")
    }
    assert costs["mean"].shape == (2, 16)
    assert (costs["cvar"] >= costs["mean"] - 1e-6).all()
    assert (costs["mean"] >= costs["optimistic"] - 1e-6).all()
    assert (costs["cvar"] > costs["optimistic"]).all()  # z really spreads the K costs


@pytest.mark.parametrize("name", NAMES)
def test_aggregate_known_answer(name):
    """aggregate: mean, min, and CVaR(alpha=0.5) = mean of the worst half."""
    costs = torch.tensor([[[1.0, 2.0, 3.0, 4.0]]])  # (B=1, N=1, K=4)
    agg = lambda risk: float(make_planner(name, risk=risk, cvar_alpha=0.5).aggregate(costs))  # noqa: E731
    assert agg("mean") == 2.5
    assert agg("optimistic") == 1.0
    assert agg("cvar") == 3.5


@pytest.mark.parametrize("name", NAMES)
def test_actor_warm_start_shifts_previous_plan(name):
    """Actor.warm_start is the last plan shifted by one step with its last action repeated."""
    actor = Actor(
        ActorConfig(horizon=5), planner=make_planner(name), world_model=PointMass(),
        cost=quadratic_cost(), action_low=-UNIT, action_high=UNIT,
    )
    assert actor.warm_start(2) is None
    actor.act(torch.zeros(2, 2), GOAL.expand(2, 2), generator=torch.Generator().manual_seed(0))
    prev = actor.last_result.actions  # (B, H, A)
    ws = actor.warm_start(2)
    assert ws.shape == (2, 5, 2)
    torch.testing.assert_close(ws[:, :-1], prev[:, 1:])
    torch.testing.assert_close(ws[:, -1], prev[:, -1])
    assert actor.warm_start(3) is None  # another batch size: no warm start
    actor.reset()
    assert actor.warm_start(2) is None


def record_candidates(planner: Planner, monkeypatch) -> list:
    seen = []
    original = planner.evaluate

    def spy(problem, actions, z=None):
        seen.append(actions.clone())
        return original(problem, actions, z)

    monkeypatch.setattr(planner, "evaluate", spy)
    return seen


@pytest.mark.parametrize("name", NAMES)
def test_warm_start_and_proposals_are_first_iteration_candidates(name, monkeypatch):
    """The warm start and the (unperturbed) policy proposals are among the first candidates."""
    planner = make_planner(name, samples=16, iterations=2, policy_samples=4)
    seen = record_candidates(planner, monkeypatch)
    B, H = 2, 5
    warm = torch.full((B, H, 2), 0.25)
    proposals = torch.stack([torch.full((B, H, 2), -0.5), torch.full((B, H, 2), 0.75)], dim=1)
    planner.plan(problem(torch.zeros(B, 2), GOAL.expand(B, 2), warm_start=warm, proposals=proposals))
    first = seen[0]  # (B, N, H, A)
    for cand in (warm, proposals[:, 0], proposals[:, 1]):
        match = (first - cand[:, None]).abs().amax(dim=(2, 3)) < 1e-7  # (B, N)
        assert match.any(dim=1).all()


def test_perfect_proposal_is_never_beaten_by_cem_result():
    """With a perfect policy proposal, CEM's result costs no more than that proposal."""
    planner = make_planner("cem", samples=8, iterations=1, policy_samples=2)
    H = 5
    perfect = torch.tensor([1.0, -0.6]).expand(1, 1, H, 2)  # reaches GOAL in 5 steps
    prob = problem(torch.zeros(1, 2), GOAL[None], H=H, proposals=perfect)
    proposal_cost = planner.evaluate(prob, perfect)[0, 0]
    res = planner.plan(prob)
    assert float(res.cost[0]) <= float(proposal_cost) + 1e-6
    blind = planner.plan(problem(torch.zeros(1, 2), GOAL[None], H=H))
    assert float(blind.cost[0]) > float(proposal_cost)  # the proposal really helped


def test_cem_rejects_more_elites_than_samples():
    """CEM with elites > samples raises ValueError naming both."""
    with pytest.raises(ValueError, match="elites.*samples=8"):
        CEM(CEMConfig(samples=8, elites=32))


def test_cem_config_rejects_more_elites_than_samples():
    """CEMConfig itself refuses elites > samples (a bad value fails before anything runs)."""
    with pytest.raises(ValueError):
        CEMConfig(samples=8, elites=32)


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch warns about the one-sample std
def test_cem_single_elite_keeps_finite_std():
    """CEM with elites=1 refits to a finite std (no NaN from a one-sample unbiased std)."""
    planner = CEM(CEMConfig(samples=8, elites=1))
    samples, costs = torch.randn(1, 8, 3, 2), torch.randn(1, 8)
    mean, std = planner.refit(samples, costs, torch.zeros(1, 3, 2), torch.ones(1, 3, 2))
    assert torch.isfinite(mean).all() and torch.isfinite(std).all()


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch warns about the one-sample std
def test_mppi_single_sample_gives_finite_plan():
    """MPPI with samples=1 returns finite actions (or its config refuses samples=1)."""
    try:
        planner = make_planner("mppi", samples=1)
    except ValueError:
        return
    res = planner.plan(problem(torch.zeros(1, 2), GOAL[None]))
    assert torch.isfinite(res.actions).all()


def test_actor_rejects_infinite_bounds():
    """The Actor refuses infinite action bounds with a clear ValueError."""
    with pytest.raises(ValueError, match="finite action bounds"):
        Actor(
            ActorConfig(), planner=make_planner("cem"), world_model=PointMass(), cost=quadratic_cost(),
            action_low=torch.tensor([-1.0, -float("inf")]), action_high=UNIT,
        )


@pytest.mark.parametrize("name", NAMES)
def test_deadline_stops_after_one_iteration(name):
    """A deadline that has already passed still runs exactly one iteration."""
    res = make_planner(name, iterations=5).plan(
        problem(torch.zeros(1, 2), GOAL[None], deadline_s=1e-9)
    )
    assert res.iterations == 1
    assert torch.isfinite(res.actions).all()


class Clock:
    """A fake ``time.perf_counter`` that only moves when :class:`SlowPointMass` rolls out."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class SlowPointMass(PointMass):
    """PointMass whose every rollout takes 4 ms of the fake clock."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def rollout(self, s0, actions, z=None):
        self.clock.now += 0.004
        return super().rollout(s0, actions, z)


@pytest.mark.parametrize("name", ["cem", "mppi", "icem"])
def test_the_deadline_bounds_the_plan(name, monkeypatch):
    """A 30 ms deadline at 4 ms per iteration: after 7 iterations (28 ms) an 8th would end at
    32 ms, past it, so the planner stops at 7 (it used to start the 8th at 28 ms)."""
    import time

    clock = Clock()
    monkeypatch.setattr(time, "perf_counter", clock)
    res = make_planner(name, iterations=100, predict_states=False).plan(
        problem(torch.zeros(1, 2), GOAL[None], wm=SlowPointMass(clock), deadline_s=0.03))
    assert res.iterations == 7
    assert clock.now - 100.0 == pytest.approx(0.028)


@pytest.mark.parametrize("name", NAMES)
def test_problem_shape_errors(name):
    """A goal of the wrong shape is refused with expected and received shapes."""
    with pytest.raises(ValueError, match=r"goal must be \(B, D\)=\(2, 2\), got \(2, 3\)"):
        make_planner(name).plan(problem(torch.zeros(2, 2), torch.zeros(2, 3)))


@pytest.mark.parametrize("name", ["cem", "mppi", "icem"])
@pytest.mark.parametrize("every", [False, True])
def test_policy_samples_in_every_iteration_only_when_asked(name, every, monkeypatch):
    """``policy_every_iteration``: the unperturbed proposal is a candidate of every iteration;
    off, of the first alone (a proposal far from the optimum is not found again by chance)."""
    cls = PLANNERS.resolve(name)
    if "policy_every_iteration" not in config_class_of(cls).model_fields:
        pytest.skip(f"{name} has no policy_every_iteration")
    planner = make_planner(name, samples=16, iterations=3, policy_samples=2, policy_every_iteration=every)
    seen = record_candidates(planner, monkeypatch)
    B, H = 2, 5
    far = torch.full((B, 1, H, 2), -0.9)  # far from GOAL: the refit moves away from it
    planner.plan(problem(torch.zeros(B, 2), GOAL.expand(B, 2), proposals=far))
    assert len(seen) == 3
    found = [bool(((cands - far).abs().amax(dim=(2, 3)) < 1e-7).any(dim=1).all()) for cands in seen]
    assert found == [True, every, every]
