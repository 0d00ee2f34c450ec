"""Typed experiment configs: frozen dataclasses with ``Literal`` fields, checked when an experiment is built.

An experiment declares ``config_type`` (a frozen dataclass); its preset keys and defaults are that dataclass's
fields. :func:`check_config` turns the merged preset/override mapping into an instance, refusing a wrong value
with one line naming the experiment, the key, what it must be and what it got (``finetune="half"`` fails at
build time, not after the pretraining). Numbers given as text (``--set lr=1e-3`` reads as a YAML string) are
converted.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from piano_eval.errors import UsageError

__all__ = ["TierKeys", "check_config", "config_dict", "defaults_of"]

C = TypeVar("C")
_NONE = type(None)


def defaults_of(cls: type[Any]) -> dict[str, Any]:
    """``{field: default}`` of a config dataclass (every field must have a default)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            raise TypeError(f"{cls.__name__}.{f.name} has no default")
    return out


def config_dict(config: Any) -> dict[str, Any]:
    """The fields of a config instance as a plain dict (shallow; lists stay lists)."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is _NONE else _describe(a) for a in get_args(tp))
    if origin in (list, tuple):
        return f"a list of {_describe(get_args(tp)[0])}" if get_args(tp) else "a list"
    if origin is dict or tp is dict:
        args = get_args(tp)
        if args and args[1] is not Any:
            hint = "(YAML: '{key: value}', a space after the colon)"
            return f"a mapping of {_describe(args[0])} to {_describe(args[1])} {hint}"
        return "a mapping"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(tp, str(tp))


class _Bad(ValueError):
    pass


def _coerce(value: Any, tp: Any) -> Any:
    """``value`` as type ``tp`` or :class:`_Bad`."""
    if tp is Any:
        return value
    origin = get_origin(tp)
    if origin is Literal:
        if value in get_args(tp) and not isinstance(value, bool):
            return value
        raise _Bad
    if origin in (typing.Union, types.UnionType):
        for arg in get_args(tp):
            if arg is _NONE:
                if value is None:
                    return None
                continue
            try:
                return _coerce(value, arg)
            except _Bad:
                continue
        raise _Bad
    if origin in (list, tuple):
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise _Bad
        (item,) = get_args(tp)[:1] or (Any,)
        return [_coerce(v, item) for v in value]
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise _Bad
        key_tp, value_tp = get_args(tp) or (Any, Any)
        return {_coerce(k, key_tp): _coerce(v, value_tp) for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _Bad
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                raise _Bad from None
        raise _Bad
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise _Bad from None
        raise _Bad
    if tp is str:
        if isinstance(value, str):
            return value
        raise _Bad
    raise TypeError(f"config field type {tp!r} is not supported")


def check_config(cls: type[C], values: Mapping[str, Any], where: str) -> C:
    """An instance of the config dataclass ``cls`` from ``values`` (missing keys take their defaults).

    Unknown keys and values of the wrong type raise :class:`UsageError` with one line naming ``where``.
    """
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - names)
    if unknown:
        raise UsageError(f"{where}: unknown preset key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(names))}")
    checked: dict[str, Any] = {}
    for name, value in values.items():
        try:
            checked[name] = _coerce(value, hints[name])
        except _Bad:
            raise UsageError(f"{where}: {name} must be {_describe(hints[name])}, got {value!r}") from None
    return cls(**checked)


@dataclass(frozen=True)
class TierKeys:
    """The preset keys every learned experiment shares (its config dataclass inherits them;
    :func:`piano_eval.training.tiers.tier_loader` reads them).

    ``tier_weights``: how often the mixer draws a batch of each tier (``t1`` keeps its usual number of batches
    per epoch; a zero weight switches a tier off). ``competition_manifest``: a T2 manifest (CSV/JSON), none by
    default. ``ordinal_weight`` and ``contrast_weight`` scale the T2 and T3 loss terms.
    """

    tier_weights: dict[str, float] = field(default_factory=lambda: {"t1": 1.0, "t2": 0.5, "t3": 0.2})
    competition_manifest: str | None = None
    ordinal_weight: float = 0.5
    contrast_weight: float = 0.1
    contrast_temperature: float = 0.1
