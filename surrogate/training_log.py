"""Bookkeeping shared by the training loops: argument checks, a CSV log, early stopping.

Used by :func:`rantwin.surrogate.train.train_twin` and
:func:`rantwin.surrogate.diffusion.train.train_diffusion`.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import torch
from torch import nn


class CsvLog:
    """Rows appended to a CSV file as training goes (header from the first row, flushed).

    Args:
        path: The file; ``None`` logs nothing.
    """

    def __init__(self, path: str | Path | None):
        self._fh = open(path, "w", newline="") if path else None  # noqa: SIM115
        self._writer: csv.DictWriter | None = None

    def write(self, row: dict[str, Any]) -> None:
        """Append one row (its keys must be the first row's)."""
        if self._fh is None:
            return
        if self._writer is None:
            self._writer = csv.DictWriter(self._fh, fieldnames=list(row))
            self._writer.writeheader()
        self._writer.writerow(row)
        self._fh.flush()

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> CsvLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EarlyStopping:
    """Keep a module's best weights by validation loss; stop after ``patience`` bad epochs.

    An epoch improves when its loss is below the best by more than ``min_delta``.

    Args:
        patience: Epochs without improvement before :meth:`update` says stop.
        min_delta: Smallest improvement that counts.
    """

    def __init__(self, patience: int, min_delta: float = 1e-4):
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        self.patience = patience
        self.min_delta = min_delta
        self.best = math.inf
        self.bad = 0
        self.state: dict[str, torch.Tensor] | None = None

    def update(self, val_loss: float, module: nn.Module) -> bool:
        """Record an epoch's loss (copying the weights if best); ``True`` means stop now."""
        if val_loss < self.best - self.min_delta:
            self.best, self.bad = val_loss, 0
            self.state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            return False
        self.bad += 1
        return self.bad >= self.patience

    def restore(self, module: nn.Module) -> None:
        """Load the best weights seen (if any) into ``module``."""
        if self.state is not None:
            module.load_state_dict(self.state)


def check_optimisation_args(args: Any) -> None:
    """The checks every training-arguments dataclass shares (call from ``__post_init__``).

    Raises:
        ValueError: ``epochs``, ``batch_size`` or ``patience`` below 1, or ``lr`` or
            ``max_minutes`` not positive (naming the argument and its value).
    """
    for name in ("epochs", "batch_size", "patience"):
        if getattr(args, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(args, name)}")
    for name in ("lr", "max_minutes"):
        if not getattr(args, name) > 0:
            raise ValueError(f"{name} must be > 0, got {getattr(args, name)}")
