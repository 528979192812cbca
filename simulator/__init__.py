"""The reference stochastic system-level simulator (the teacher).

See :class:`~rantwin.simulator.engine.Simulator`; reports are
:class:`~rantwin.simulator.report.SuperStepReport` and become dataset rows through
:func:`~rantwin.simulator.report.report_tables`.
"""

from .engine import Simulator
from .report import SuperStepReport, report_tables
from .state import EpisodeStatics, SimState

__all__ = ["EpisodeStatics", "SimState", "Simulator", "SuperStepReport", "report_tables"]
