"""rantwin.surrogate: not built yet (see the open issues); the package exists so the namespace is complete."""
