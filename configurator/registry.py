"""Registries: a module is chosen by a built-in name or by an import path ``"pkg.mod:Class"``."""

from __future__ import annotations

import difflib
import importlib
import inspect
import typing
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T")


def config_class_of(cls: type) -> type[BaseModel]:
    """The pydantic config class of a module class.

    The nearest class in the MRO that either sets ``config_class`` or defines an
    ``__init__`` whose ``config`` parameter is annotated with a pydantic model decides, so a
    subclass that only inherits its parent's constructor also inherits its config.
    """
    for klass in cls.__mro__:
        explicit = klass.__dict__.get("config_class")
        if explicit is not None:
            return explicit
        if "__init__" in klass.__dict__:
            try:
                hint = typing.get_type_hints(klass.__init__).get("config")
            except Exception as err:  # unresolvable annotations: say which class
                raise TypeError(f"cannot read the config type of {klass.__qualname__}: {err}") from err
            if inspect.isclass(hint) and issubclass(hint, BaseModel):
                return hint
    raise TypeError(
        f"{cls.__module__}.{cls.__qualname__} must declare `config_class = <pydantic model>` or "
        f"annotate its constructor's `config` parameter with one"
    )


def validate_options(config_cls: type[BaseModel], options: dict[str, Any], where: str) -> BaseModel:
    """Validate ``options`` into ``config_cls``; an unknown key names the closest valid one."""
    try:
        return config_cls.model_validate(options)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            key = ".".join(str(p) for p in e["loc"])
            if e["type"] == "extra_forbidden":
                close = difflib.get_close_matches(str(e["loc"][0]), list(config_cls.model_fields), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                valid = ", ".join(config_cls.model_fields)
                lines.append(f"unknown option '{key}' for {where}{hint} (valid: {valid})")
            elif key:
                lines.append(f"{where}.{key}: {e['msg']} (got {e.get('input')!r})")
            else:
                lines.append(f"{where}: {e['msg']}")
        raise ValueError("; ".join(lines)) from None


class Registry(Generic[T]):
    """Named built-ins of one module kind, plus import paths to user classes."""

    def __init__(self, kind: str, base: type[T]) -> None:
        self.kind = kind
        self.base = base
        self._entries: dict[str, type[T]] = {}

    def register(self, name: str, cls: type[T]) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} '{name}' is already registered")
        self._entries[name] = cls

    @property
    def names(self) -> list[str]:
        return list(self._entries)

    def resolve(self, name: str) -> type[T]:
        """The class for a registered name or a ``"package.module:Class"`` path."""
        if ":" in name:
            module_name, _, attr = name.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ImportError as err:
                raise ValueError(f"cannot import {self.kind} module '{module_name}' from '{name}': {err}") from err
            cls = getattr(module, attr, None)
            if cls is None:
                raise ValueError(f"module '{module_name}' has no attribute '{attr}' (from {self.kind} '{name}')")
            if not (inspect.isclass(cls) and issubclass(cls, self.base)):
                raise ValueError(f"{self.kind} '{name}' must be a subclass of {self.base.__qualname__}, got {cls!r}")
            return cls
        if name not in self._entries:
            close = difflib.get_close_matches(name, self.names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(
                f"unknown {self.kind} '{name}'{hint} known: {', '.join(self.names)} "
                f"(or an import path 'package.module:Class')"
            )
        return self._entries[name]
