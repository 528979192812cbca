"""rantwin.agents: not built yet (see the open issues).

The package exists so that the rantwin namespace is complete.
"""
