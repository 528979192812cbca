"""The backend protocol: what the envs need from a model of the radio network.

Two implementations sit behind it: ``"simulator"`` (:class:`~.backends.simulator.
SimulatorBackend`, the oracle; loops in Python) and ``"surrogate"`` (the learned twin; one
batched forward pass; :class:`~.backends.surrogate.SurrogateBackend`). The envs never
branch on which one they hold.

A backend is batched over a leading batch dimension ``B`` (independent environments, one
config each) and an ensemble dimension ``M`` (``n_members`` draws per environment, stepped in
lockstep under the same config). Its state is opaque to the envs.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from rantwin.scenarios import CellConfig, Scenario

from .types import KpiSample

__all__ = ["BACKENDS", "Backend", "make_backend"]

#: Names understood by :func:`make_backend`.
BACKENDS: tuple[str, ...] = ("simulator", "surrogate")


@runtime_checkable
class Backend(Protocol):
    """A batched, ensembled model of one scenario.

    Attributes:
        scenario: The scenario it models.
        n_members: Ensemble members ``M`` per batch element.
    """

    scenario: Scenario
    n_members: int

    def reset(self, seeds: Sequence[int], configs: Sequence[CellConfig] | None = None) -> Any:
        """Start ``B = len(seeds)`` episodes.

        Args:
            seeds: One non-negative integer seed per batch element; member ``m`` of element
                ``b`` derives its randomness from ``(seeds[b], m)``. Same seeds, same episode.
            configs: Optional initial config per element (initial cell association);
                default: the scenario's nominal config. A backend may ignore it.

        Returns:
            The opaque batched state before super-step 0.
        """
        ...

    def step(self, state: Any, configs: Sequence[CellConfig]) -> tuple[Any, KpiSample]:
        """Advance every batch element one super-step.

        Args:
            state: A state from :meth:`reset`, :meth:`step` or :meth:`replace`.
            configs: One config per batch element (shared by its members), injected now.

        Returns:
            ``(next_state, kpi)`` with ``kpi`` of batch ``B`` and ``M`` members.
        """
        ...

    def replace(self, state: Any, index: Sequence[int], new: Any) -> Any:
        """Batch elements ``index`` of ``state`` replaced by the elements of ``new``.

        Used by the vector env to reset some environments only (autoreset).

        Args:
            state: A batched state of batch ``B``.
            index: ``B'`` distinct batch indices.
            new: A state of batch ``B'`` (e.g. from :meth:`reset`).

        Returns:
            The merged state of batch ``B`` (``state`` and ``new`` are left untouched).
        """
        ...


def make_backend(name: str, scenario: Scenario, members: int = 1, **kwargs: Any) -> Backend:
    """Build a backend by name.

    Args:
        name: ``"simulator"`` or ``"surrogate"``.
        scenario: The scenario to model.
        members: Ensemble members ``M`` >= 1.
        **kwargs: Backend-specific options (surrogate: ``checkpoint=`` a twin directory;
            default: the bundled twin).

    Returns:
        A :class:`Backend`.

    Raises:
        ValueError: Unknown name, ``members < 1``, an unknown option, or no twin checkpoint
            (the message says how to build or pass one).
    """
    if isinstance(members, bool) or not isinstance(members, int) or members < 1:
        raise ValueError(f"members must be an integer >= 1, got {members!r}")
    if name == "simulator":
        from .backends.simulator import SimulatorBackend

        if kwargs:
            raise ValueError(
                f"the simulator backend takes no options, got {', '.join(sorted(kwargs))}"
            )
        return SimulatorBackend(scenario, members=members)
    if name == "surrogate":
        from .backends.surrogate import SurrogateBackend

        options = [
            p for p in inspect.signature(SurrogateBackend).parameters
            if p not in ("scenario", "members")
        ]  # fmt: skip
        unknown = sorted(set(kwargs) - set(options))
        if unknown:
            raise ValueError(
                f"the surrogate backend takes only {', '.join(f'{o}=' for o in options)}; "
                f"got {', '.join(unknown)}"
            )
        return SurrogateBackend(scenario, members=members, **kwargs)
    raise ValueError(f"unknown backend {name!r}; valid backends: {', '.join(BACKENDS)}")
