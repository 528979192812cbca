"""Backend implementations of :class:`rantwin.envs.backend.Backend`."""
