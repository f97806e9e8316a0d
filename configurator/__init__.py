"""Configurator: config files and overrides (``loading``), every ``auto`` resolved once
(``resolve``), task specs and configs -> configured modules; online reconfiguration."""

from jepa_agent.configurator.builtins import (
    CRITICS,
    ENCODERS,
    PLANNERS,
    POLICIES,
    PROBES,
    REGISTRIES,
    WORLD_MODELS,
)
from jepa_agent.configurator.config import (
    AgentConfig,
    ExplorationConfig,
    ModuleSpec,
    TaskSpec,
    TrainingConfig,
)
from jepa_agent.configurator.configurator import (
    Configurator,
    Modules,
    action_bounds,
    observation_shapes,
)
from jepa_agent.configurator.loading import (
    ConfigError,
    apply_overrides,
    load_config,
    loads_config,
    parse_override_tokens,
    shipped_configs,
)
from jepa_agent.configurator.registry import Registry, config_class_of, validate_options
from jepa_agent.configurator.resolve import Facts, resolve

__all__ = [
    "CRITICS",
    "ENCODERS",
    "PLANNERS",
    "POLICIES",
    "PROBES",
    "REGISTRIES",
    "WORLD_MODELS",
    "AgentConfig",
    "ConfigError",
    "Configurator",
    "ExplorationConfig",
    "Facts",
    "ModuleSpec",
    "Modules",
    "Registry",
    "TaskSpec",
    "TrainingConfig",
    "action_bounds",
    "apply_overrides",
    "config_class_of",
    "load_config",
    "loads_config",
    "observation_shapes",
    "parse_override_tokens",
    "resolve",
    "shipped_configs",
    "validate_options",
]
