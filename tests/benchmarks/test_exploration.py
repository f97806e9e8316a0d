"""benchmarks.exploration end to end on a reduced budget: both protocols, the records and the figure
(its main in this process; the free protocol's epistemic variant trains in a process of its own)."""

import json

import pytest

from jepa_agent.agent.checkpoint import read_checkpoint
from tests.agent.test_run_loop import TINY

SETS = [f"{k}={v}" for k, v in TINY.items() if k != "seed"] + ["training.window=3"]


@pytest.mark.parametrize("protocol", ["env", "free"])
def test_exploration_writes_one_record_per_variant(exploration, tmp_path, protocol):
    """Two variants at 800 env steps: records with the issue's fields, coverage in (0, 1], the
    free protocol's random variant never plans and its epistemic variant practises every planned episode."""
    cmd = ["--task", "reach2d", "--protocol", protocol, "--steps", "800",
           "--out", str(tmp_path), "--episodes", "2", "--weight", "-1", "--achieve", "0.5", "--set", *SETS]
    shaped = 0.5 if protocol == "free" else 0.0  # the encoder trained through the probe, in one protocol
    cmd += [f"training.probe_encoder_weight={shaped}"]
    # A variant trains here as the process the parent starts for it would (--variant: no
    # interpreter start and imports); --reuse then keeps it. In the free protocol the parent
    # starts the epistemic variant's process itself.
    for variant in ("random",) if protocol == "free" else ("random", "epistemic"):
        exploration.main([*cmd, "--variant", variant])
    exploration.main([*cmd, "--reuse"])
    if protocol == "free":
        assert (tmp_path / "reach2d_free_epistemic.log").is_file() and not (tmp_path / "reach2d_free_random.log").exists()
    records = json.loads((tmp_path / "results.json").read_text())
    assert [r["variant"] for r in records] == ["random", "epistemic"]
    for r in records:
        assert r["task"] == "reach2d" and r["protocol"] == protocol and r["env_steps"] >= 800
        assert 0 < r["coverage"] <= 1 and 0 <= r["far_success_rate"] <= 1 and 0 <= r["success_rate"] <= 1
    assert records[1]["epistemic_weight"] == -1 and records[1]["practice_frontier"] == "sparse"
    assert records[1]["practice_achieve"] == 0.5 and records[0]["practice_achieve"] == 0.0
    assert [r["probe_encoder_weight"] for r in records] == [shaped, shaped]
    assert (tmp_path / f"coverage_reach2d{'' if protocol == 'env' else '_free'}.png").stat().st_size > 10_000
    prefix = "reach2d_" if protocol == "env" else "reach2d_free_"
    eps = {v: json.loads((tmp_path / f"{prefix}{v}" / "history.json").read_text())["episodes"]
           for v in ("random", "epistemic")}
    if protocol == "free":
        assert records[1]["practice_goals"] == 1.0
        assert all(e["random"] for e in eps["random"])
        # the random variant's checkpoint is the agent evaluated, its post-training updates included
        assert read_checkpoint(tmp_path / "reach2d_free_random" / "checkpoint.safetensors")["updates"] > 0
        planned = [e for e in eps["epistemic"] if not e["random"]]
        assert planned and all(e["practice"] for e in planned)
    else:
        assert records[1]["practice_goals"] == 0.5 and not all(e["random"] for e in eps["random"])
        # --reeval: the trained variants again on more held-out goals, reported from eval_N.json
        exploration.main([*cmd, "--reeval", "4"])
        again = json.loads((tmp_path / "results.json").read_text())
        assert [r["variant"] for r in again] == ["random", "epistemic"]
        for variant in ("random", "epistemic"):
            summary = json.loads((tmp_path / f"{prefix}{variant}" / "eval_4.json").read_text())
            assert summary["episodes"] == 4 and len(summary["records"]) == 4
            first = json.loads((tmp_path / f"{prefix}{variant}" / "eval.json").read_text())["records"]
            assert [r["seed"] for r in summary["records"][:2]] == [r["seed"] for r in first]
        # trained longer at a lower learning rate first: its own file, its own record
        more = [*cmd, "--reeval", "4", "--variants", "epistemic", "--more-updates", "2", "--more-lr", "0.5"]
        exploration.main(more)
        summary = json.loads((tmp_path / f"{prefix}epistemic" / "eval_4_more2_lr0.5.json").read_text())
        assert summary["more_updates"] == 2 and summary["more_lr"] == 0.5
        records = json.loads((tmp_path / "results.json").read_text())
        assert [(r["more_updates"], r["more_lr"]) for r in records[-1:]] == [(2, 0.5)] and len(records) == 3
        with pytest.raises(SystemExit, match="--more-lr must be > 0 and goes with --more-updates"):
            exploration.main([*cmd, "--reeval", "4", "--more-lr", "0.5"])
        # the predictor refitted in the target encoder's space, plans started there: its own file and record
        refit = [*cmd, "--reeval", "4", "--variants", "epistemic", "--refit-predictor", "3",
                 "--eval-set", "world_model.options.plan_encoder=target", "--eval-tag", "tgt"]
        exploration.main(refit)
        summary = json.loads((tmp_path / f"{prefix}epistemic" / "eval_4_tgt_refit3.json").read_text())
        assert summary["refit_predictor"] == 3 and summary["refit_loss_first"] > 0
        records = json.loads((tmp_path / "results.json").read_text())
        assert records[-1]["refit_predictor"] == 3 and records[-1]["eval_set"] == refit[-3:-2] and len(records) == 4
