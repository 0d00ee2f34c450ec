"""The experiment interface every preset implements, and the context the runner hands it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from piano_data.samples import Segment

Size = Literal["quick", "full"]
Group = Literal["baseline", "audio", "symbolic", "fusion"]


@dataclass(frozen=True)
class RunContext:
    """What the runner knows about one invocation of ``piano-eval run``.

    ``workdir`` is private scratch space for this run (checkpoints, logs, caches); ``data_root`` is the folder
    holding dataset folders (``percepiano/``, ``asap/``, ...) or ``None`` for the embedded default corpus;
    ``options`` carries experiment-specific CLI options (``muq_weights``, ``accelerator``, ...).
    """

    workdir: Path
    seed: int = 0
    size: Size = "quick"
    data_root: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


@dataclass(frozen=True)
class Prediction:
    """Predictions ``[N, 19]`` in [0, 1] with a per-value confidence in [0, 1] (``None`` when unknown)."""

    values: np.ndarray
    confidence: np.ndarray | None = None
    details: list[dict[str, Any]] = field(default_factory=list)


class Experiment(ABC):
    """One row of the experiment matrix.

    The runner calls :meth:`prepare` once with every segment of the dataset (labels must not be used there:
    self-supervised pretraining, feature extraction, rendering), then, for each fold, :meth:`fit_predict` with
    that fold's training and test segments. ``fit_predict`` returns ``[len(test), 19]`` predictions in [0, 1].
    """

    id: ClassVar[str]
    group: ClassVar[Group]
    description: ClassVar[str] = ""
    #: The preset's keys and default values. When set, unknown keys are refused (typos never pass silently).
    defaults: ClassVar[dict[str, Any] | None] = None
    #: A frozen config dataclass (see :mod:`piano_eval.experiments.config`): its fields are the preset keys and
    #: their defaults, and every value is type-checked when the experiment is built (``settings``).
    config_type: ClassVar[type | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.config_type is not None:
            from piano_eval.experiments.config import defaults_of

            cls.defaults = defaults_of(cls.config_type)

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        given = dict(config or {})
        self.settings: Any = None
        if self.config_type is not None:
            from piano_eval.experiments.config import check_config, config_dict

            size = {"size": given.pop("size")} if "size" in given else {}
            self.settings = check_config(self.config_type, given, f"experiment {self.id!r}")
            self.config: dict[str, Any] = {**config_dict(self.settings), **size}
            return
        if self.defaults is not None:
            unknown = sorted(set(given) - set(self.defaults) - {"size"})
            if unknown:
                from piano_eval.errors import UsageError

                raise UsageError(
                    f"experiment {self.id!r}: unknown preset key(s) {', '.join(unknown)}; "
                    f"known keys: {', '.join(sorted(self.defaults))}"
                )
            given = {**self.defaults, **given}
        self.config = given

    def prepare(self, segments: Sequence[Segment], ctx: RunContext) -> None:  # noqa: B027 - optional hook
        """Label-free work done once per run (pretraining, caching features)."""

    @abstractmethod
    def fit_predict(self, train: Sequence[Segment], test: Sequence[Segment], ctx: RunContext, fold: int) -> np.ndarray:
        """Train on ``train`` (fresh weights for every fold) and predict ``test``."""

    # Checkpoints for ``piano-eval train`` / ``score --checkpoint`` (every registered experiment implements them):
    # ``fit`` on all labelled segments (as fold 0), ``predict`` new ones, ``save``/``load`` weights as safetensors or
    # plain arrays plus JSON, rebuilt from ``self.config`` (a mismatch is a PianoDataError naming the file).
    def fit(self, train: Sequence[Segment], ctx: RunContext) -> None:
        raise NotImplementedError(f"experiment {self.id!r} cannot be trained into a checkpoint yet")

    def predict(self, segments: Sequence[Segment], ctx: RunContext) -> Prediction:
        raise NotImplementedError(f"experiment {self.id!r} cannot predict from a checkpoint yet")

    def save(self, directory: Path) -> None:
        raise NotImplementedError(f"experiment {self.id!r} cannot save a checkpoint yet")

    def load(self, directory: Path) -> None:
        raise NotImplementedError(f"experiment {self.id!r} cannot load a checkpoint yet")

    def describe(self) -> dict[str, Any]:
        """Provenance written into the results file."""
        return {"id": self.id, "group": self.group, "config": self.config}
