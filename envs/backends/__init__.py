"""Backend implementations of :class:`rantwin.envs.backend.Backend`.

``simulator`` (the oracle, :mod:`.simulator`) and ``surrogate`` (the learned twin,
:mod:`.surrogate`).
"""
