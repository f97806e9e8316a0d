"""Shareable models: a folder in the layout the Hugging Face Hub expects.

``Agent.save_pretrained(folder, eval_result=...)`` writes::

    config.json         the agent's config and what it was built for (spaces, action bounds),
                        counters, provenance; the format tag
    model.safetensors   the weights of every module, ``<module>.<parameter>`` (no optimiser
                        state, no replay: what acting and fine-tuning start from)
    eval.json           the evaluation it was measured with (when one is given)
    README.md           a model card written from the three: what it is, how to load it, its
                        measured results, the config, provenance

``Agent.from_pretrained(folder_or_id)`` reads a local folder, or, for a Hub id
(``owner/name``) that is not a local folder, downloads those four files with
``huggingface_hub`` first (only then: nothing is fetched unless an id is asked for). Like a
checkpoint, a model folder is data: JSON and safetensors, nothing in it is run; a config that
names code to call (a frozen encoder's factory) needs ``trust_code=True``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from jepa_agent.agent.checkpoint import FORMAT, CheckpointError, is_legacy
from jepa_agent.memory import atomic_write, atomic_write_text

if TYPE_CHECKING:
    from jepa_agent.agent.agent import Agent

__all__ = ["FILES", "MODULES", "load_pretrained_state", "model_card", "save_pretrained"]

FILES = ("config.json", "model.safetensors", "eval.json", "README.md")
"""What a model folder holds (eval.json only when the model was measured)."""

MODULES = ("world_model", "critic", "critic_target", "policy", "probe", "task_cost", "goal_encoder",
           "coarse_world_model")
"""The modules whose weights ``model.safetensors`` holds, as name prefixes."""

_PLAIN = ("format", "config", "input_shapes", "action_low", "action_high", "hwc_keys", "goal_observation",
          "updates", "env_steps")


def save_pretrained(agent: Agent, folder: str | Path, *, eval_result: Mapping[str, Any] | str | Path | None = None,
                    model_id: str | None = None) -> Path:
    """Write ``agent`` to ``folder`` as a shareable model (see the module docstring).

    ``eval_result``: the evaluation to publish with it, an ``eval.json`` path or its dict
    (``Agent.evaluate``'s or a run's); ``model_id``: the name the card gives it (default: the
    folder's name). Each file is written atomically; returns ``folder``.
    """
    from jepa_agent.agent.provenance import provenance

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = agent.state_dict()
    weights: dict[str, torch.Tensor] = {}
    for module in MODULES:
        for key, value in (state.get(module) or {}).items():
            weights[f"{module}.{key}"] = value.detach().to("cpu", copy=True).contiguous()
    config = {k: state[k] for k in _PLAIN}
    config["modules"] = [m for m in MODULES if state.get(m) is not None]
    config["provenance"] = provenance(agent.device)
    if eval_result is not None and not isinstance(eval_result, Mapping):
        eval_result = json.loads(Path(eval_result).read_text())
    data = save_safetensors(weights, metadata={"format": FORMAT, "kind": "model"})
    atomic_write(folder / "model.safetensors", lambda f: f.write(data))
    atomic_write_text(folder / "config.json", json.dumps(config, indent=2) + "\n")
    if eval_result is not None:
        atomic_write_text(folder / "eval.json", json.dumps(dict(eval_result), indent=2) + "\n")
    else:
        (folder / "eval.json").unlink(missing_ok=True)  # a stale one would describe another model
    atomic_write_text(folder / "README.md", model_card(config, eval_result, model_id or folder.resolve().name))
    return folder


def load_pretrained_state(folder_or_id: str | Path, *, revision: str | None = None) -> tuple[dict[str, Any], Path]:
    """The checkpoint-like state of a model folder (weights by module, no optimiser state)
    and the folder it was read from; a Hub id is downloaded first (see the module docstring).

    Raises:
        FileNotFoundError: neither a folder nor a Hub id.
        CheckpointError: a folder without a readable config.json / model.safetensors (one line).
    """
    folder = _local_folder(folder_or_id, revision)
    config_path, weights_path = folder / "config.json", folder / "model.safetensors"
    for p in (config_path, weights_path):
        if not p.is_file():
            raise CheckpointError(f"could not read model {folder}: it has no {p.name} (save_pretrained writes one)")
    try:
        config = json.loads(config_path.read_text())
    except ValueError as err:
        raise CheckpointError(f"could not read model {folder}: config.json is not JSON ({err})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        got = config.get("format") if isinstance(config, dict) else type(config).__name__
        raise CheckpointError(f"could not read model {folder}: config.json is not a jepa-agent model "
                              f"(format {got!r}, expected {FORMAT!r})")
    if is_legacy(weights_path):
        raise CheckpointError(f"could not read model {folder}: its model.safetensors is a torch.save pickle; it is "
                              "not opened, since unpickling can run code")
    try:
        flat = load_safetensors(weights_path.read_bytes())
    except (SafetensorError, ValueError) as err:
        raise CheckpointError(f"could not read model {folder}: model.safetensors is cut short or damaged "
                              f"({' '.join(str(err).split())})") from None
    state: dict[str, Any] = {k: config[k] for k in _PLAIN if k in config}
    missing = [k for k in _PLAIN if k not in config]
    if missing:
        raise CheckpointError(f"could not read model {folder}: config.json lacks {', '.join(missing)}")
    for module in config.get("modules", []):
        state[module] = {}
    for name, value in flat.items():
        module, _, key = name.partition(".")
        if module not in state or module not in MODULES:
            raise CheckpointError(f"could not read model {folder}: model.safetensors holds {name!r}, "
                                  f"of no module config.json lists")
        state[module][key] = value
    state["optimizers"] = {}
    return state, folder


def _local_folder(folder_or_id: str | Path, revision: str | None) -> Path:
    path = Path(folder_or_id).expanduser()
    if path.is_dir():
        return path
    text = str(folder_or_id)
    parts = text.split("/")
    if len(parts) != 2 or not all(parts) or text.startswith((".", "/", "~")):
        raise FileNotFoundError(f"no model folder at {path} (and {text!r} is not a Hub id 'owner/name')")
    try:
        from huggingface_hub import snapshot_download
    except ImportError as err:
        raise FileNotFoundError(
            f"no model folder at {path}; to download the Hub model {text!r}, install huggingface-hub "
            "(pip install 'jepa-agent[hub]')"
        ) from err
    return Path(snapshot_download(repo_id=text, revision=revision, allow_patterns=list(FILES)))


# --------------------------------------------------------------------------- the card
_METRICS = (("success_rate", "success rate"), ("mean_final_distance", "mean final distance"),
            ("mean_return", "mean return"), ("act_ms_median", "act ms (median)"))


def model_card(config: Mapping[str, Any], eval_result: Mapping[str, Any] | None, model_id: str) -> str:
    """A model card (Hub README.md with YAML metadata) written from the model's config and
    the evaluation it was measured with; nothing in it is typed by hand."""
    agent_config = config["config"]
    env = agent_config["task"]["env"]
    prov = config.get("provenance") or {}
    metrics = [(key, label, eval_result[key]) for key, label in _METRICS
               if eval_result is not None and isinstance(eval_result.get(key), (int, float))
               and math.isfinite(eval_result[key])]
    front = ["---", "library_name: jepa-agent", "tags:", "- reinforcement-learning", "- model-predictive-control",
             "- world-model", "- jepa", "- mujoco", "- gymnasium"]
    if metrics:
        front += ["model-index:", f"- name: {json.dumps(model_id)}", "  results:", "  - task:",
                  "      type: reinforcement-learning", "      name: reinforcement-learning",
                  "    dataset:", f"      name: {json.dumps(env)}", f"      type: {json.dumps(env)}", "    metrics:"]
        for key, label, value in metrics:
            front += [f"    - type: {key}", f"      value: {value:.6g}", f"      name: {label}"]
    front.append("---")
    lines = [
        *front, "",
        f"# {model_id}", "",
        f"A jepa-agent model for `{env}`: a JEPA world model planned through by "
        f"`{agent_config['task']['planner']['name']}` over a horizon of {agent_config['task']['actor']['horizon']} "
        f"steps, trained for {config['env_steps']:,} env steps and {config['updates']:,} updates.", "",
        "```python",
        "from jepa_agent import Agent",
        "",
        f"agent = Agent.from_pretrained({json.dumps(model_id)})  # a local folder or a Hub id",
        "```", "",
        "## Evaluation", "",
    ]
    if eval_result is None:
        lines += ["Not measured: this folder holds no `eval.json`.", ""]
    else:
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| {label} | {value:.4g} |" for _, label, value in metrics]
        for key in ("episodes", "env_steps", "success_threshold", "device"):
            if key in eval_result:
                lines.append(f"| {key.replace('_', ' ')} | {eval_result[key]} |")
        lines += ["", "From `eval.json` in this folder.", ""]
    lines += [
        "## What it holds", "",
        f"- observation entries: {', '.join(f'`{k}` {tuple(v)}' for k, v in config['input_shapes'].items())}",
        f"- action bounds: {config['action_low']} to {config['action_high']}",
        f"- modules: {', '.join(config.get('modules', []))}",
        f"- format: `{config['format']}` (config.json and model.safetensors: data only)", "",
        "## Provenance", "",
    ]
    lines += [f"- {k}: {v}" for k, v in prov.items() if v is not None] or ["- not recorded"]
    lines += ["", "## Config", "", "```json", json.dumps(agent_config, indent=2), "```", ""]
    return "\n".join(lines)
