"""rantwin: a Gymnasium + PettingZoo testbed for closed-loop RAN control.

The repository root is the ``rantwin`` package; see ``DESIGN.md`` for the data flow
scenarios -> radio (Φ) -> simulator -> datasets -> surrogate -> envs -> agents.
"""

__version__ = "0.1.0"
