"""Config files and command-line overrides, with errors that name the key.

A config file is an :class:`~jepa_agent.configurator.AgentConfig` written as YAML (``.yaml``/``.yml``)
or JSON (``.json``); fields it leaves out take their defaults. Overrides are dotted keys
into the same tree (``task.actor.horizon=8``), plus a few short forms:

=========================  =====================================================
short key                  full key
=========================  =====================================================
``env``                    ``task.env``
``cost.X``                 ``task.cost.X``
``planner``                ``task.planner.name``
``planner.X``              ``task.planner.options.X``
``actor.planner``          ``task.planner.name``
``actor.X``                ``task.actor.X`` (horizon, mode, ...) or, for a planner
                           option, ``task.planner.options.X`` (samples, ...)
``<module>.X``             ``<module>.options.X`` for every module (``encoder``,
                           ``world_model``, ``critic``, ``policy``, ``probe``,
                           ``task.planner``, ``training.exploration.planner``)
``training.OLD``           ``training.exploration.NEW`` for the exploration keys
                           that moved there (``training.practice_goals``,
                           ``training.collect_planner`` -> ``.planner``, ...:
                           ``config.MOVED_TO_EXPLORATION``), with a
                           DeprecationWarning
=========================  =====================================================

Dashes in keys read as underscores; values are YAML scalars (``512``, ``mppi``, ``null``,
``[a, b]``). An unknown key fails before anything runs, naming the closest valid key.

A config file may start from another: ``base: reach2d`` (a config that ships with the package,
:func:`shipped_configs`) or ``base: ./other.yaml`` (a file, relative to this one). The base is
read first (it may have a base of its own) and the file's keys are merged into it
(:func:`merge`): a file holds only its differences. Where a file is asked for by a bare name
(``--config reacher``: no suffix, no folder) and there is no such file here, it is the shipped
config of that name, so the shipped configs work from an installed package, without a clone.
"""

from __future__ import annotations

import difflib
import importlib.resources
import json
import types
import typing
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from jepa_agent.actor import ActorConfig
from jepa_agent.configurator.builtins import REGISTRIES
from jepa_agent.configurator.config import MOVED_TO_EXPLORATION, AgentConfig, ModuleSpec
from jepa_agent.configurator.registry import config_class_of

__all__ = [
    "ALIASES",
    "ConfigError",
    "apply_overrides",
    "canonical_key",
    "config_path",
    "load_config",
    "loads_config",
    "merge",
    "model_class",
    "parse_override_tokens",
    "read_config_data",
    "shipped_configs",
    "validate_config",
]

ALIASES = {
    "env": "task.env",
    "cost.X": "task.cost.X",
    "planner": "task.planner.name",
    "planner.X": "task.planner.options.X",
    "actor.planner": "task.planner.name",
    "actor.X": "task.actor.X, or task.planner.options.X for a planner option",
    "<module>.X": "<module>.options.X",
}
"""The short override keys (documented in the README's command-line section)."""

_TOP_ALIASES = ("env", "cost", "planner", "actor")

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A config file or an override that does not validate; the message names the key."""


# --------------------------------------------------------------------------- files
SUFFIXES = (".yaml", ".yml", ".json")
"""The suffixes of config files (YAML or JSON, read by suffix)."""

SHIPPED = "jepa_agent.configs"
"""The package that holds the shipped configs (the repository's ``configs/`` folder)."""


def shipped_configs() -> dict[str, Path]:
    """The configs that ship with the package, by name (``reach2d`` -> ``.../configs/reach2d.yaml``)."""
    folder = Path(str(importlib.resources.files(SHIPPED)))
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix in SUFFIXES}


def _is_name(source: str) -> bool:
    """A bare name (``reacher``): no suffix, no folder."""
    path = Path(source)
    return bool(source) and path.name == source and not path.suffix


def config_path(source: str | Path) -> Path:
    """The file a config source names: a file that exists, as it is; else, for a bare name
    (``reacher``: no suffix, no folder), the shipped config of that name. Anything else is a
    :class:`ConfigError` naming the shipped configs."""
    path = Path(source)
    if path.is_file():
        return path
    shipped = shipped_configs()
    if _is_name(str(source)):
        if str(source) in shipped:
            return shipped[str(source)]
        raise ConfigError(f"no config file {str(source)!r} here and no shipped config of that name "
                          f"(shipped: {', '.join(shipped)})")
    hint = ""
    if path.stem in shipped and path.suffix in SUFFIXES:
        hint = f"; the package ships a config of that name: --config {path.stem}"
    raise ConfigError(f"no config file at {path}{hint}")


def load_config(source: str | Path, *, model: type[M] = AgentConfig) -> M:
    """Read and validate a YAML or JSON config file (by suffix) as ``model``, its ``base``
    chain merged (:func:`read_config_data`). ``source`` is a path, or the name of a shipped
    config (:func:`config_path`)."""
    path = config_path(source)
    chain: list[Path] = []
    data = read_config_data(path, chain=chain)
    where = str(path) if len(chain) == 1 else f"{path} (base: {' -> '.join(p.name for p in chain[1:])})"
    return validate_config(data, source=where, model=model)


def read_config_data(source: str | Path, *, chain: list[Path] | None = None) -> dict[str, Any]:
    """The mapping a config file holds, with its ``base`` (a shipped config's name, or a path
    relative to the file) read first and the file's keys merged into it (:func:`merge`); a base
    may have its own. ``chain``, when given, is filled with the files read, the first first.
    A cycle of bases, an unknown shipped name or a missing file is a :class:`ConfigError`."""
    chain = [] if chain is None else chain
    path = config_path(source)
    if path.resolve() in [p.resolve() for p in chain]:
        cycle = " -> ".join(str(p) for p in [*chain, path])
        raise ConfigError(f"the bases of {chain[0]} form a cycle: {cycle}")
    chain.append(path)
    data = _read_mapping(path)
    base = data.pop("base", None)
    if base is None:
        return data
    return merge(read_config_data(_base_path(base, path), chain=chain), data)


def _base_path(base: Any, of: Path) -> Path:
    """The file ``base: ...`` in the file ``of`` names."""
    if not isinstance(base, str) or not base:
        raise ConfigError(f"{of}: base names a shipped config (base: reach2d) or a file relative to this one "
                          f"(base: ./other.yaml), got {base!r}")
    if _is_name(base):
        shipped = shipped_configs()
        if base not in shipped:
            raise ConfigError(f"{of}: base {base!r} is no shipped config (shipped: {', '.join(shipped)}; "
                              "a file is named by its path, e.g. base: ./other.yaml)")
        return shipped[base]
    path = Path(base) if Path(base).is_absolute() else of.parent / base
    if not path.is_file():
        raise ConfigError(f"{of}: base {base!r}: no config file at {path}")
    return path


def _read_mapping(path: Path) -> dict[str, Any]:
    """The mapping of keys to values in one YAML or JSON file (empty for an empty file)."""
    if path.suffix not in SUFFIXES:
        raise ConfigError(f"a config file is .yaml, .yml or .json, got {path}")
    return _parse(path.read_text(), json_text=path.suffix == ".json", where=str(path))


def _parse(text: str, *, json_text: bool, where: str) -> dict[str, Any]:
    """The mapping of keys to values a YAML (or JSON) text holds (empty for an empty text)."""
    try:
        data = json.loads(text) if json_text else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        kind = "JSON" if json_text else "YAML"
        raise ConfigError(f"{where}: not valid {kind}: {' '.join(str(err).split())}") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: a config is a mapping of keys to values, got {type(data).__name__}")
    return dict(data)


def loads_config(text: str, *, model: type[M] = AgentConfig, folder: str | Path = ".") -> M:
    """A config from YAML text (an example's, a notebook's), read as a file in ``folder`` would
    be: its ``base`` (a shipped config's name, or a path relative to ``folder``) first."""
    data = _parse(text, json_text=False, where="config text")
    base = data.pop("base", None)
    chain: list[Path] = []
    if base is not None:
        data = merge(read_config_data(_base_path(base, Path(folder) / "config text"), chain=chain), data)
    where = "config text" + (f" (base: {' -> '.join(p.name for p in chain)})" if chain else "")
    return validate_config(data, source=where, model=model)


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` merged into ``base`` (a file into its base): mappings merge key by key, at every
    depth; anything else in ``over`` replaces what ``base`` has (a list whole; ``null`` sets
    null). A module spec that names another module (``planner: {name: mppi}`` over ``{name:
    cem, options: {...}}``) replaces the base's whole, since the base's options belong to
    the base's module."""
    out = dict(base)
    for key, value in over.items():
        below = out.get(key)
        other_module = (isinstance(value, Mapping) and isinstance(below, Mapping) and "name" in value
                        and value["name"] != below.get("name"))
        if isinstance(value, Mapping) and isinstance(below, Mapping) and not other_module:
            out[key] = merge(below, value)
        else:
            out[key] = value
    return out


def validate_config(data: Mapping[str, Any], *, source: str = "config", model: type[M] = AgentConfig) -> M:
    """``model.model_validate`` (an :class:`AgentConfig` by default) whose errors name each bad
    key and the closest valid one."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{source}: " + "; ".join(_explain(e, data, model) for e in err.errors())) from None


def _explain(error: Mapping[str, Any], data: Mapping[str, Any], model: type[BaseModel]) -> str:
    loc = tuple(str(p) for p in error["loc"])
    key = ".".join(loc)
    if error["type"] == "extra_forbidden":
        valid = _valid_keys(loc[:-1], data, model)
        return _unknown(key, loc[-1], valid, prefix=".".join(loc[:-1]))
    msg = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in ("value_error", "assertion_error"):
        return f"{key}: {msg}" if key else msg
    return f"{key}: {msg} (got {error.get('input')!r})"


def _unknown(shown: str, bad: str, valid: Sequence[str], *, prefix: str = "") -> str:
    """``unknown config key 'a.b'; did you mean 'a.c'? (valid: ...)``."""
    close = difflib.get_close_matches(bad, list(valid), n=1, cutoff=0.5)
    hint = ""
    if close:
        hint = f"; did you mean '{prefix + '.' if prefix else ''}{close[0]}'?"
    where = f" under '{prefix}'" if prefix else ""
    return f"unknown config key '{shown}'{hint} (valid{where}: {', '.join(valid)})"


def model_class(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model class of a field annotation (``X``, ``X | None``), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [m for a in typing.get_args(annotation) if (m := model_class(a)) is not None]
        return models[0] if len(models) == 1 else None
    return None


def _module_kind(path: Sequence[str]) -> str:
    """Registry kind of the module spec at ``path`` (``task.planner`` -> ``planner``)."""
    last = path[-1]
    return "planner" if last.endswith("planner") else last


def _option_fields(path: Sequence[str], data: Mapping[str, Any]) -> list[str] | None:
    """Option names of the module chosen at ``path`` in ``data`` (None if it cannot resolve)."""
    node: Any = data
    for p in path:
        node = node.get(p) if isinstance(node, Mapping) else None
    name = node.get("name") if isinstance(node, Mapping) else None
    kind = _module_kind(path)
    if not isinstance(name, str) or kind not in REGISTRIES:
        return None
    try:
        return list(config_class_of(REGISTRIES[kind].resolve(name)).model_fields)
    except (ValueError, TypeError):
        return None


def _valid_keys(loc: Sequence[str], data: Mapping[str, Any], model: type[BaseModel] = AgentConfig) -> list[str]:
    """The keys a config accepts at ``loc`` (model fields, or a module's options)."""
    cls: type[BaseModel] | None = model
    for i, part in enumerate(loc):
        if cls is ModuleSpec and part == "options":
            return _option_fields(loc[:i], data) or []
        if cls is None or part not in cls.model_fields:
            return []
        cls = model_class(cls.model_fields[part].annotation)
    return list(cls.model_fields) if cls is not None else []


# --------------------------------------------------------------------------- overrides
def parse_override_tokens(tokens: Sequence[str]) -> dict[str, Any]:
    """Command-line override tokens to ``{dotted key: value}``.

    ``["--actor.horizon=8", "--seed", "3"]`` -> ``{"actor.horizon": 8, "seed": 3}``; values
    are parsed as YAML scalars, dashes in keys read as underscores.
    """
    out: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if not tok.startswith("--") or len(tok) < 3:
            raise ConfigError(f"expected an override --KEY=VALUE, got {tok!r}")
        key, sep, value = tok[2:].partition("=")
        if not sep:
            if i + 1 >= len(tokens) or tokens[i + 1].startswith("--"):
                raise ConfigError(f"override --{key} needs a value: --{key}=VALUE")
            value = tokens[i + 1]
            i += 1
        out[key.replace("-", "_")] = _parse_value(value)
        i += 1
    return out


def split_world_model_options(items: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """``KEY=VALUE`` overrides of a loaded checkpoint split into the world model's options
    (``world_model.options.NAME=VALUE`` -> ``{NAME: value}``, for ``Agent.load``'s
    ``world_model_options``: options that keep its weights) and the rest, as given."""
    prefix = "world_model.options."
    options = parse_override_tokens([f"--{o[len(prefix):]}" for o in items if o.startswith(prefix)])
    return options, [o for o in items if not o.startswith(prefix)]


def _parse_value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def canonical_key(key: str, data: Mapping[str, Any]) -> list[str]:
    """The full path of an override key in the config tree ``data`` (a ``model_dump``).

    Resolves the short forms listed in the module docstring; an unknown key raises a
    :class:`ConfigError` naming the closest valid key.
    """
    parts = key.split(".")
    head, rest = parts[0], parts[1:]
    if head == "env" and not rest:
        parts = ["task", "env"]
    elif head == "cost":
        parts = ["task", *parts]
    elif head == "planner":
        parts = ["task", "planner", *(rest or ["name"])]
    elif head == "actor":
        if not rest:
            raise ConfigError(f"'{key}' is a section; set one of its keys, e.g. actor.horizon=8")
        if rest == ["planner"]:
            parts = ["task", "planner", "name"]
        elif rest[0] in ActorConfig.model_fields:
            parts = ["task", *parts]
        else:
            planner_opts = _option_fields(["task", "planner"], data) or []
            if rest[0] not in planner_opts:
                valid = sorted({*ActorConfig.model_fields, "planner", *planner_opts})
                raise ConfigError(_unknown(key, rest[0], valid, prefix="actor"))
            parts = ["task", "planner", "options", *rest]
    elif head == "training" and rest and rest[0] in MOVED_TO_EXPLORATION:
        new = MOVED_TO_EXPLORATION[rest[0]]
        warnings.warn(f"training.{rest[0]} is now training.exploration.{new}", DeprecationWarning, stacklevel=3)
        parts = ["training", "exploration", new, *rest[1:]]
    return _walk(parts, data, key)


def _walk(parts: list[str], data: Mapping[str, Any], shown: str) -> list[str]:
    cls: type[BaseModel] = AgentConfig
    node: Any = data
    path: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if cls is ModuleSpec:
            if part == "name" and last:
                return [*path, "name"]
            if node is None:
                raise ConfigError(
                    f"'{shown}': {'.'.join(path)} is off (null); choose a module first, "
                    f"e.g. --{'.'.join(path)}.name=mlp"
                )
            rest = parts[i + 1 :] if part == "options" else parts[i:]
            if not rest:
                return [*path, "options"]
            fields = _option_fields(path, data)
            if fields is not None and rest[0] not in fields:
                name = node.get("name") if isinstance(node, Mapping) else "?"
                prefix = ".".join(parts[:i]) if part != "options" else ".".join(parts[: i + 1])
                msg = _unknown(shown, rest[0], fields, prefix=prefix)
                raise ConfigError(msg.replace(" (valid", f" (options of {_module_kind(path)} '{name}'", 1))
            return [*path, "options", *rest]
        fields = cls.model_fields
        if part not in fields:
            valid = list(fields) + (list(_TOP_ALIASES) if not path else [])
            suggestion = _unknown(shown, part, valid, prefix=".".join(parts[:i]))
            raise ConfigError(_with_tail(suggestion, parts[i + 1 :]))
        path.append(part)
        node = node.get(part) if isinstance(node, Mapping) else None
        sub = model_class(fields[part].annotation)
        if sub is None:
            if last:
                return path
            if isinstance(node, Mapping) or node is None and "dict" in str(fields[part].annotation):
                return [*path, *parts[i + 1 :]]  # a free-form mapping (env_kwargs)
            raise ConfigError(f"unknown config key '{shown}': '{'.'.join(path)}' is a value, not a section")
        cls = sub
    return path


def _with_tail(message: str, tail: Sequence[str]) -> str:
    """Append the rest of the key to the suggestion (``did you mean 'actor.planner'?``)."""
    if not tail or "did you mean '" not in message:
        return message
    head, _, after = message.partition("did you mean '")
    guess, _, end = after.partition("'")
    return f"{head}did you mean '{guess}.{'.'.join(tail)}'{end}"


def _is_name_key(key: str) -> bool:
    return key in ("planner", "actor.planner") or key.endswith(".name")


def apply_overrides(config: AgentConfig, overrides: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> AgentConfig:
    """A new config with the overrides applied (module names first, so options of a newly
    chosen module resolve against it). Raises :class:`ConfigError` naming a bad key or value."""
    items = list(overrides.items()) if isinstance(overrides, Mapping) else list(overrides)
    if not items:
        return config
    data = config.model_dump(mode="json")
    ordered = [kv for kv in items if _is_name_key(kv[0])] + [kv for kv in items if not _is_name_key(kv[0])]
    for key, value in ordered:
        path = canonical_key(key, data)
        node = data
        for p in path[:-1]:
            if node.get(p) is None:
                node[p] = {}
            node = node[p]
        node[path[-1]] = value
    return validate_config(data, source="overrides " + " ".join(f"--{k}={v}" for k, v in items))
