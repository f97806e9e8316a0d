"""The command line's inspecting commands: ``jepa-agent show`` (a resolved config, a
checkpoint's summary, the config reference) and ``jepa-agent configs`` (the shipped configs)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from jepa_agent.agent.app.console import _emit, trust_code_flag

__all__ = ["configs_parser", "run_configs", "run_show", "show_parser"]


# --------------------------------------------------------------------------- show
def show_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.description = "Print a resolved config, a checkpoint's summary, or the config reference (--schema)."
    p.add_argument("path", nargs="?", help="a .yaml/.json config, a shipped config's name or a .safetensors checkpoint "
                                           "(default: the defaults)")
    p.add_argument("--schema", action="store_true", help="print the config reference (Markdown)")
    p.add_argument("--readme", metavar="PAGE.md", help="with --schema: rewrite that page's generated section (docs/reference/config.md)")
    p.add_argument("--json", action="store_true", help="JSON instead of YAML / Markdown")
    trust_code_flag(p)
    return p


def run_show(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from jepa_agent.configurator import AgentConfig
    from jepa_agent.configurator.loading import apply_overrides, load_config

    if args.schema:
        from jepa_agent.agent.app.reference import config_reference, update_readme

        if args.readme:
            changed = update_readme(args.readme)
            _emit(f"{args.readme}: config reference {'updated' if changed else 'already up to date'}\n")
        elif args.json:
            _emit(json.dumps(AgentConfig.model_json_schema(), indent=2) + "\n")
        else:
            _emit(config_reference())
        return 0
    if args.path and Path(args.path).suffix in (".safetensors", ".pt", ".pth", ".ckpt"):
        from jepa_agent.agent.app.run import checkpoint_summary
        from jepa_agent.configurator.loading import ConfigError

        if overrides:
            raise ConfigError(f"show prints a checkpoint as saved; overrides {sorted(overrides)} do not apply")

        info = checkpoint_summary(args.path, trust_code=args.trust_code)
        if args.json:
            _emit(json.dumps(info, indent=2) + "\n")
            return 0
        config, params = info.pop("config"), info.pop("parameters")
        lines = [yaml.safe_dump(info, sort_keys=False), "parameters:\n"]
        lines += [f"  {name}: {n:,}\n" for name, n in params.items()]
        lines += [f"  total: {sum(params.values()):,}\n", yaml.safe_dump({"config": config}, sort_keys=False)]
        _emit("".join(lines))
        return 0
    config = load_config(args.path) if args.path else AgentConfig()
    config = apply_overrides(config, overrides)
    data = config.model_dump(mode="json")
    _emit(json.dumps(data, indent=2) + "\n" if args.json else yaml.safe_dump(data, sort_keys=False))
    return 0


# --------------------------------------------------------------------------- configs
def configs_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.description = ("List the configs that ship with the package, each usable as --config NAME (or as "
                     "base: NAME in a config of your own), with its base and the first line of its comment.")
    return p


def run_configs(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from jepa_agent.configurator.loading import ConfigError, shipped_configs

    if overrides:
        raise ConfigError(f"configs lists the shipped configs; overrides {sorted(overrides)} do not apply")
    rows = []
    for name, path in shipped_configs().items():
        lines = path.read_text().splitlines()
        about = next((line.lstrip("#").strip() for line in lines if line.startswith("#")), "")
        base = next((line.partition(":")[2].strip() for line in lines if line.startswith("base:")), "")
        rows.append((name, f"base: {base}" if base else "", about))
    widths = [max(len(row[i]) for row in rows) for i in (0, 1)]
    _emit("".join(f"{n:<{widths[0]}}  {b:<{widths[1]}}  {a}".rstrip() + "\n" for n, b, a in rows))
    return 0
