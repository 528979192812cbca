"""Rule-based baselines: the self-organising-network (SON) rules a learned policy must beat.

Each baseline implements :class:`~rantwin.agents.policy.Policy` and is built from the env's
:class:`~rantwin.envs.ActionMap` plus keyword parameters. A rule acts on the knob(s) it
needs and leaves every other knob at the scenario's default (:func:`default_action`); the
incremental rules keep the config they are nudging, and :meth:`~RuleBaseline.reset`
restores the default. Loads are counted in active served UEs: in full-buffer scenarios PRB
utilisation is 1 in every cell with a UE, so the UE count is the load signal.

============  ========  ===============================================  =========================
name          knob      rule (per super-step)                            source
============  ========  ===============================================  =========================
``static``    -         the scenario's default config, always            -
``mlb-cio``   cio_db    mobility load balancing: a cell more loaded      Kwan et al., VTC-Fall
                        than its k nearest neighbours lowers its CIO     2010; TS 36.300
                        by a step (its edge UEs hand over), a less       §22.4.1.4 (MLB)
                        loaded one raises it
``sleep``     sleep     energy saving: a lightly loaded cell sleeps      Oh, Son, Krishnamachari,
                        when its awake neighbours can absorb its UEs;    IEEE TWC 12(5), 2013;
                        a sleeping cell wakes when they get loaded or    TR 36.927
                        their SINR p10 drops (coverage holes)
``tilt-cco``  tilt_deg  coverage & capacity optimisation: uptilt on      TS 32.522, TS 36.300
                        a low RSRP p10 (coverage), downtilt on a low     §22.4.1 (CCO); Razavi,
                        SINR p10 with fine RSRP (interference)           Klein, Claussen, PIMRC
                                                                         2010
============  ========  ===============================================  =========================

Example::

    env = RanControlEnv(scenario="hex7-uma", backend="simulator")
    policy = make_baseline("mlb-cio", env.action_map, step_db=0.5)
    obs, _ = env.reset(seed=0)
    policy.reset()
    obs, reward, *_ = env.step(policy.act(obs))
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

from rantwin.envs import ActionMap
from rantwin.envs.observation import n_features
from rantwin.envs.parallel import neighbours
from rantwin.scenarios import CellConfig

from .policy import ObsView, Policy, default_action

__all__ = [
    "BASELINES",
    "CioLoadBalancing",
    "RuleBaseline",
    "SleepRule",
    "StaticPolicy",
    "TiltRule",
    "make_baseline",
]


class RuleBaseline:
    """Common machinery of the rule baselines (not a baseline itself).

    Subclasses set :attr:`name` and :attr:`knobs_needed`, validate their parameters with
    :meth:`_check`, and implement :meth:`reset` and :meth:`act`.

    Args:
        actions: The env's action map (its scenario and controlled knobs).

    Attributes:
        name: The baseline's name (a key of :data:`BASELINES`).
        knobs_needed: Knobs the rule writes.
        actions: The action map.
        view: An :class:`ObsView` over the action map.

    Raises:
        ValueError: The action map does not control a knob the rule needs (naming the rule,
            the knob and the knobs it does control).
    """

    name: str = ""
    knobs_needed: ClassVar[tuple[str, ...]] = ()

    def __init__(self, actions: ActionMap):
        controlled = [k.name for k in actions.knobs]
        for knob in self.knobs_needed:
            if knob not in controlled:
                raise ValueError(
                    f"baseline {self.name!r} needs knob {knob!r}, which the env does not control "
                    f"(controlled knobs: {', '.join(controlled)}); build the env with "
                    f"knobs=None or a list that includes {knob!r}"
                )
        self.actions = actions
        self.view = ObsView(actions)
        self._default = default_action(actions)  # [n_cells, n_knobs] float32
        self._default_cfg = CellConfig.default(actions.scenario)
        self._params: dict[str, Any] = {}

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.actions.scenario.n_cells

    @property
    def params(self) -> dict[str, Any]:
        """The rule's parameters (a copy, for reports)."""
        return dict(self._params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"

    def _check(self, param: str, value: Any, ok: bool, rule: str) -> None:
        """Record a parameter; raise ``ValueError`` naming it, its value and the rule if bad."""
        if not ok:
            raise ValueError(f"baseline {self.name!r}: {param} must be {rule}, got {value!r}")
        self._params[param] = value

    def _check_number(self, param: str, value: Any, rule: str, ok: Any) -> float:
        """A finite real parameter that satisfies ``ok(value)``."""
        good = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and bool(np.isfinite(value))
            and bool(ok(float(value)))
        )
        self._check(param, value, good, rule)
        return float(value)

    def _check_int(self, param: str, value: Any, low: int) -> int:
        """An integer parameter ``>= low``."""
        good = bool(
            isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= low
        )
        self._check(param, value, good, f"an integer >= {low}")
        return int(value)

    def _validate_obs(self, obs: np.ndarray) -> np.ndarray:
        """The observation as float64 ``[n_cells, n_features]``; ``ValueError`` otherwise."""
        o = np.asarray(obs, dtype=np.float64)
        shape = (self.n_cells, n_features(self.actions))
        if o.shape != shape:
            raise ValueError(
                f"baseline {self.name!r}: observation has shape {o.shape}, expected {shape} "
                "(n_cells, n_features) — one env's observation, not a batch"
            )
        if not np.isfinite(o).all():
            i = int(np.argwhere(~np.isfinite(o))[0][0])
            raise ValueError(f"baseline {self.name!r}: observation of cell {i} is not finite")
        return o

    def _asleep_in_obs(self, obs: np.ndarray) -> np.ndarray:
        """Cells the observation reports asleep (all awake if the env does not control sleep).

        **Output:** ``[n_cells]`` bool.
        """
        if any(k.name == "sleep" for k in self.actions.knobs):
            return self.view.knob(obs, "sleep") > 0.0
        return np.zeros(self.n_cells, dtype=bool)

    def _action(self, **values: np.ndarray) -> np.ndarray:
        """The default action with the given knobs' columns set from physical values.

        **Input:** ``values``: ``{knob: [n_cells]}`` physical values (sleep: bool).

        **Output:** ``[n_cells, n_knobs]`` float32 in ``[-1, 1]``.
        """
        a = self._default.copy()
        for j, k in enumerate(self.actions.knobs):
            if k.name not in values:
                continue
            v = np.asarray(values[k.name], dtype=np.float64)
            if k.name == "sleep":
                a[:, j] = np.where(v > 0.5, 1.0, -1.0)
            else:
                a[:, j] = 2.0 * (v - k.low) / (k.high - k.low) - 1.0
        return np.clip(a, -1.0, 1.0).astype(np.float32)

    def _knob_range(self, name: str) -> tuple[float, float]:
        knob = next(k for k in self.actions.knobs if k.name == name)
        return knob.low, knob.high

    def reset(self) -> None:
        """Forget per-episode state (called before the first ``act`` of every episode)."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The action for one observation (see :class:`~rantwin.agents.policy.Policy`)."""
        raise NotImplementedError


class StaticPolicy(RuleBaseline):
    """The do-nothing baseline: the scenario's default config at every step.

    Args:
        actions: The env's action map.
    """

    name: str = "static"

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The default action.

        **Input:** ``obs`` ``[n_cells, n_features]``.

        **Output:** ``[n_cells, n_knobs]`` float32, :func:`default_action`.
        """
        self._validate_obs(obs)
        return self._default.copy()


class CioLoadBalancing(RuleBaseline):
    """Mobility load balancing by cell individual offsets (``"mlb-cio"``).

    Each step, cell ``c``'s load ``L_c`` (active served UEs) is compared with the mean
    load ``N_c`` of its awake ones among its ``n_neighbours`` nearest cells
    (:func:`rantwin.envs.parallel.neighbours`). The cell is *overloaded* when
    ``L_c > (1 + margin)·N_c`` and ``L_c − N_c >= min_diff_ues``, *underloaded* when
    ``L_c < (1 − margin)·N_c`` and ``N_c − L_c >= min_diff_ues``. An overloaded cell lowers
    its CIO by ``step_db``, an underloaded one raises it, and (with ``relax``) a balanced
    one moves back towards its default CIO by up to ``step_db``; the CIO stays within
    ``±max_cio_db`` and the knob's range. Sleeping cells (when the env controls sleep) keep
    their CIO and count neither as neighbours nor as load.

    Sign convention (checked in :func:`rantwin.simulator.handover.run_a3`): every awake
    cell's L3-filtered RSRP is scored as ``Mn + Ocn`` with ``Ocn`` its own ``cio_db``, the
    serving cell included (``Mp + Ocp``), and a UE hands over to ``n`` when
    ``Mn + Ocn − Hys > Mp + Ocp`` holds for time-to-trigger. A **higher** CIO therefore
    attracts UEs to a cell (and keeps its own); lowering an overloaded cell's CIO pushes its
    edge UEs to the neighbours, raising a light neighbour's CIO pulls them in. Only CIO
    differences between cells matter.

    Source: R. Kwan, R. Arnott, R. Paterson, R. Trivisonno, M. Kubota, "On Mobility Load
    Balancing for LTE Systems", IEEE VTC-Fall 2010; 3GPP TS 36.300 §22.4.1.4 (MLB).

    Args:
        actions: The env's action map; must control ``cio_db``.
        n_neighbours: Nearest cells a cell balances against (>= 1).
        step_db: CIO change per step, dB (> 0).
        margin: Relative load margin in ``[0, 1)`` before the rule acts.
        min_diff_ues: Absolute load difference (UEs, >= 0) before the rule acts; keeps
            one-UE noise in light cells from moving CIOs.
        max_cio_db: Largest ``|CIO|``, dB (> 0; the knob's range bounds it too). Large CIOs
            serve UEs from a weaker cell, so they trade SINR (coverage) for load.
        relax: Whether balanced cells return towards the default CIO.

    Raises:
        ValueError: ``cio_db`` not controlled, or a bad parameter.
    """

    name: str = "mlb-cio"
    knobs_needed: ClassVar[tuple[str, ...]] = ("cio_db",)

    def __init__(
        self,
        actions: ActionMap,
        *,
        n_neighbours: int = 6,
        step_db: float = 1.0,
        margin: float = 0.2,
        min_diff_ues: float = 2.0,
        max_cio_db: float = 3.0,
        relax: bool = True,
    ):
        super().__init__(actions)
        self.n_neighbours = self._check_int("n_neighbours", n_neighbours, 1)
        self.step_db = self._check_number(
            "step_db", step_db, "a finite number > 0", lambda v: v > 0
        )
        self.margin = self._check_number(
            "margin", margin, "a finite number in [0, 1)", lambda v: 0 <= v < 1
        )
        self.min_diff_ues = self._check_number(
            "min_diff_ues", min_diff_ues, "a finite number >= 0", lambda v: v >= 0
        )
        self.max_cio_db = self._check_number(
            "max_cio_db", max_cio_db, "a finite number > 0", lambda v: v > 0
        )
        self._check("relax", relax, isinstance(relax, bool), "True or False")
        self.relax = relax
        self.neighbours = neighbours(actions.scenario, self.n_neighbours)  # [n_cells, k]
        knob_low, knob_high = self._knob_range("cio_db")
        self.low = max(knob_low, -self.max_cio_db)
        self.high = min(knob_high, self.max_cio_db)
        cio = np.array(self._default_cfg.cio_db, dtype=np.float64)  # [n_cells] dB
        self._default_cio = np.clip(cio, self.low, self.high)
        self.reset()

    def reset(self) -> None:
        """Restore the default CIOs."""
        # [n_cells] float64, dB: the CIO the rule is nudging
        self.cio_db = self._default_cio.copy()

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Nudge each cell's CIO towards balancing its load with its neighbours'.

        **Input:** ``obs`` ``[n_cells, n_features]``.

        **Output:** ``[n_cells, n_knobs]`` float32 in ``[-1, 1]`` (only ``cio_db`` moves).
        """
        o = self._validate_obs(obs)
        load = self.view.kpi(o, "active_ues")  # [n_cells]
        awake = ~self._asleep_in_obs(o)  # [n_cells]
        nb_awake = awake[self.neighbours]  # [n_cells, k]
        n_nb = nb_awake.sum(1)  # [n_cells]
        nb_load = np.where(nb_awake, load[self.neighbours], 0.0).sum(1) / np.maximum(n_nb, 1)
        has_nb = awake & (n_nb > 0)
        over = has_nb & (load > (1 + self.margin) * nb_load)
        over &= load - nb_load >= self.min_diff_ues
        under = has_nb & (load < (1 - self.margin) * nb_load)
        under &= nb_load - load >= self.min_diff_ues
        step = np.where(over, -self.step_db, np.where(under, self.step_db, 0.0))
        if self.relax:  # balanced awake cells drift back towards the default CIO
            back = self._default_cio - self.cio_db
            rest = np.sign(back) * np.minimum(np.abs(back), self.step_db)
            step = np.where(awake & ~over & ~under, rest, step)
        self.cio_db = np.clip(self.cio_db + step, self.low, self.high)
        return self._action(cio_db=self.cio_db)


class SleepRule(RuleBaseline):
    """Energy saving by switching lightly loaded cells off (``"sleep"``).

    Each step, first the wake pass, then the sleep pass (loads ``L`` in active served UEs,
    neighbourhoods = the ``n_neighbours`` nearest cells, "awake neighbours" = those awake
    under the rule's current decisions):

    1. A sleeping cell wakes when it has no awake neighbour, when the mean load of its
       awake neighbours exceeds ``wake_load_ues``, or when the mean SINR p10 of its awake
       neighbours that serve active UEs drops below ``wake_sinr_p10_db`` (coverage holes
       around the sleeping cell). A woken cell stays awake for ``hold_steps`` steps after the
       one it wakes in (anti ping-pong); waking is never delayed.
    2. Awake cells are visited from the lightest; cell ``c`` sleeps when ``L_c <
       sleep_load_ues``, its awake neighbours can take its UEs (``(Σ L_n + L_c) / n_awake <
       room_load_ues``), their mean SINR p10 is not below ``wake_sinr_p10_db`` (or it would
       wake at once), fewer than ``max_asleep_fraction · n_neighbours`` of its neighbours
       sleep already, its hold has expired, and another cell of the network stays awake.
       A cell that goes to sleep spreads its load over its awake neighbours for the
       decisions later in the same pass.

    The rule keeps the sleep state it commands (the observation's sleep column agrees when
    the env applied it); at least one cell is always awake (the :class:`ActionMap` also
    guarantees that).

    Source: E. Oh, K. Son, B. Krishnamachari, "Dynamic Base Station Switching-On/Off
    Strategies for Green Cellular Networks", IEEE Trans. Wireless Commun. 12(5), 2013;
    3GPP TR 36.927 (energy saving).

    Args:
        actions: The env's action map; must control ``sleep``.
        n_neighbours: Cells in a neighbourhood (>= 1).
        sleep_load_ues: A cell with fewer active UEs may sleep (> 0).
        room_load_ues: Mean load of the awake neighbours, the sleeping cell's UEs included,
            below which they can absorb it (> 0).
        wake_load_ues: Mean load of the awake neighbours above which a sleeping cell wakes
            (>= ``room_load_ues``: the gap is the hysteresis).
        wake_sinr_p10_db: Mean SINR p10 of the awake neighbours below which a sleeping cell
            wakes, dB (the default matches the reward's ``coverage_sinr_db``).
        max_asleep_fraction: Fraction of a cell's neighbours that may already sleep, in
            ``(0, 1]``.
        hold_steps: Steps a woken cell stays awake after the step it wakes in (>= 0).

    Raises:
        ValueError: ``sleep`` not controlled, or a bad parameter.
    """

    name: str = "sleep"
    knobs_needed: ClassVar[tuple[str, ...]] = ("sleep",)

    def __init__(
        self,
        actions: ActionMap,
        *,
        n_neighbours: int = 6,
        sleep_load_ues: float = 2.0,
        room_load_ues: float = 5.0,
        wake_load_ues: float = 8.0,
        wake_sinr_p10_db: float = -5.0,
        max_asleep_fraction: float = 0.5,
        hold_steps: int = 4,
    ):
        super().__init__(actions)
        pos = "a finite number > 0"
        self.n_neighbours = self._check_int("n_neighbours", n_neighbours, 1)
        self.sleep_load_ues = self._check_number(
            "sleep_load_ues", sleep_load_ues, pos, lambda v: v > 0
        )
        self.room_load_ues = self._check_number(
            "room_load_ues", room_load_ues, pos, lambda v: v > 0
        )
        self.wake_load_ues = self._check_number(
            "wake_load_ues",
            wake_load_ues,
            f"a finite number >= room_load_ues = {self.room_load_ues:g}",
            lambda v: v >= self.room_load_ues,
        )
        self.wake_sinr_p10_db = self._check_number(
            "wake_sinr_p10_db", wake_sinr_p10_db, "a finite number (dB)", lambda v: True
        )
        self.max_asleep_fraction = self._check_number(
            "max_asleep_fraction",
            max_asleep_fraction,
            "a finite number in (0, 1]",
            lambda v: 0 < v <= 1,
        )
        self.hold_steps = self._check_int("hold_steps", hold_steps, 0)
        self.neighbours = neighbours(actions.scenario, self.n_neighbours)  # [n_cells, k]
        self.reset()

    def reset(self) -> None:
        """Wake every cell (the default config) and clear the hold timers."""
        self.asleep = np.array(self._default_cfg.sleep, dtype=bool)  # [n_cells]
        if self.asleep.all():
            self.asleep[0] = False
        self.hold = np.zeros(self.n_cells, dtype=np.int64)  # [n_cells] steps left on hold

    def _neighbour_state(
        self, c: int, load: np.ndarray, sinr_p10: np.ndarray, has_ues: np.ndarray
    ) -> tuple[int, float, float | None]:
        """Awake neighbours of ``c``: their count, mean load, mean SINR p10 (None if no UEs)."""
        nb = self.neighbours[c]
        nb = nb[~self.asleep[nb]]
        if nb.size == 0:
            return 0, 0.0, None
        with_ues = nb[has_ues[nb]]
        sinr = float(sinr_p10[with_ues].mean()) if with_ues.size else None
        return int(nb.size), float(load[nb].mean()), sinr

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Wake cells whose neighbourhood needs them, then sleep the light ones that can go.

        **Input:** ``obs`` ``[n_cells, n_features]``.

        **Output:** ``[n_cells, n_knobs]`` float32 in ``[-1, 1]`` (only ``sleep`` moves).
        """
        o = self._validate_obs(obs)
        load = self.view.kpi(o, "active_ues")  # [n_cells]
        load = np.where(self.asleep, 0.0, load)
        sinr_p10 = self.view.kpi(o, "sinr_p10")  # [n_cells] dB
        has_ues = load >= 0.5  # [n_cells]: SINR p10 reads -20 dB without active UEs
        self.hold = np.maximum(self.hold - 1, 0)
        # 1. wake pass
        for c in map(int, np.flatnonzero(self.asleep)):
            n_awake, nb_load, nb_sinr = self._neighbour_state(c, load, sinr_p10, has_ues)
            wake = n_awake == 0 or nb_load > self.wake_load_ues
            wake = wake or (nb_sinr is not None and nb_sinr < self.wake_sinr_p10_db)
            if wake:
                self.asleep[c] = False
                self.hold[c] = self.hold_steps + 1  # this step, then hold_steps more
        # 2. sleep pass, lightest first (stable: ties by cell index)
        est = load.copy()  # load estimate, updated as cells hand their UEs over
        limit = self.max_asleep_fraction * self.neighbours.shape[1]
        for c in map(int, np.argsort(load, kind="stable")):
            if self.asleep[c] or self.hold[c] > 0 or est[c] >= self.sleep_load_ues:
                continue
            if (~self.asleep).sum() <= 1:
                break
            if self.asleep[self.neighbours[c]].sum() >= limit:
                continue
            n_awake, nb_load, nb_sinr = self._neighbour_state(c, est, sinr_p10, has_ues)
            if n_awake == 0 or (nb_load * n_awake + est[c]) / n_awake >= self.room_load_ues:
                continue
            if nb_sinr is not None and nb_sinr < self.wake_sinr_p10_db:
                continue
            nb = self.neighbours[c]
            nb = nb[~self.asleep[nb]]
            est[nb] += est[c] / nb.size
            est[c] = 0.0
            self.asleep[c] = True
        assert not self.asleep.all(), "the sleep rule keeps one cell awake"
        return self._action(sleep=self.asleep)


class TiltRule(RuleBaseline):
    """Coverage & capacity optimisation by electrical tilt (``"tilt-cco"``).

    Per cell and step: if the RSRP p10 of its served UEs is below ``rsrp_p10_min_dbm``
    (coverage problem) the cell uptilts by ``step_deg`` (smaller ``tilt_deg``: the beam
    reaches further); else if the SINR p10 of its active UEs is below
    ``sinr_p10_min_db`` (interference problem with coverage fine) it downtilts by
    ``step_deg`` (larger ``tilt_deg``: less spill into neighbours, stronger signal at
    home). The tilt stays within ``max_delta_deg`` of the scenario's planned tilt and
    within the knob's range. Cells without served UEs (RSRP p90 at the bottom of the
    observation range), without active UEs (for the SINR test) or asleep keep their tilt.

    Source: 3GPP TS 32.522 and TS 36.300 §22.4.1 (coverage and capacity optimisation);
    R. Razavi, S. Klein, H. Claussen, "Self-optimization of capacity and coverage in LTE
    networks using a fuzzy reinforcement learning approach", IEEE PIMRC 2010.

    Args:
        actions: The env's action map; must control ``tilt_deg``.
        rsrp_p10_min_dbm: Coverage threshold on RSRP p10, dBm.
        sinr_p10_min_db: Interference threshold on SINR p10, dB.
        step_deg: Tilt change per step, degrees (> 0).
        max_delta_deg: Largest departure from the planned tilt, degrees (> 0).

    Raises:
        ValueError: ``tilt_deg`` not controlled, or a bad parameter.
    """

    name: str = "tilt-cco"
    knobs_needed: ClassVar[tuple[str, ...]] = ("tilt_deg",)

    def __init__(
        self,
        actions: ActionMap,
        *,
        rsrp_p10_min_dbm: float = -110.0,
        sinr_p10_min_db: float = 0.0,
        step_deg: float = 1.0,
        max_delta_deg: float = 4.0,
    ):
        super().__init__(actions)
        self.rsrp_p10_min_dbm = self._check_number(
            "rsrp_p10_min_dbm",
            rsrp_p10_min_dbm,
            "a finite number in (-140, -40) dBm (the observation's RSRP range)",
            lambda v: -140 < v < -40,
        )
        self.sinr_p10_min_db = self._check_number(
            "sinr_p10_min_db",
            sinr_p10_min_db,
            "a finite number in (-20, 40) dB (the observation's SINR range)",
            lambda v: -20 < v < 40,
        )
        self.step_deg = self._check_number(
            "step_deg", step_deg, "a finite number > 0", lambda v: v > 0
        )
        self.max_delta_deg = self._check_number(
            "max_delta_deg", max_delta_deg, "a finite number > 0", lambda v: v > 0
        )
        knob_low, knob_high = self._knob_range("tilt_deg")
        planned = np.array(self._default_cfg.tilt_deg, dtype=np.float64)  # [n_cells]
        self.low = np.maximum(planned - self.max_delta_deg, knob_low)  # [n_cells]
        self.high = np.minimum(planned + self.max_delta_deg, knob_high)  # [n_cells]
        self._planned = np.clip(planned, self.low, self.high)
        self.reset()

    def reset(self) -> None:
        """Restore the planned (default) tilts."""
        self.tilt_deg = self._planned.copy()  # [n_cells] float64, degrees of downtilt

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Uptilt cells with a coverage problem, downtilt those with an interference one.

        **Input:** ``obs`` ``[n_cells, n_features]``.

        **Output:** ``[n_cells, n_knobs]`` float32 in ``[-1, 1]`` (only ``tilt_deg`` moves).
        """
        o = self._validate_obs(obs)
        rsrp_p10 = self.view.kpi(o, "rsrp_p10")  # [n_cells] dBm
        rsrp_p90 = self.view.kpi(o, "rsrp_p90")
        sinr_p10 = self.view.kpi(o, "sinr_p10")  # [n_cells] dB
        active = self.view.kpi(o, "active_ues") >= 0.5
        served = rsrp_p90 > -140.0 + 1e-3  # a cell without served UEs reads -140 dBm
        ok = served & ~self._asleep_in_obs(o)
        up = ok & (rsrp_p10 < self.rsrp_p10_min_dbm)
        down = ok & ~up & active & (sinr_p10 < self.sinr_p10_min_db)
        step = np.where(up, -self.step_deg, np.where(down, self.step_deg, 0.0))
        self.tilt_deg = np.clip(self.tilt_deg + step, self.low, self.high)
        return self._action(tilt_deg=self.tilt_deg)


#: The rule baselines by name.
BASELINES: dict[str, type[RuleBaseline]] = {
    cls.name: cls for cls in (StaticPolicy, CioLoadBalancing, SleepRule, TiltRule)
}


def make_baseline(name: str, actions: ActionMap, **params: Any) -> Policy:
    """Build a rule baseline by name.

    Args:
        name: A key of :data:`BASELINES` (``"static"``, ``"mlb-cio"``, ``"sleep"``,
            ``"tilt-cco"``).
        actions: The env's action map (``env.action_map``).
        **params: The baseline's keyword parameters (see its class).

    Returns:
        The policy, reset.

    Raises:
        ValueError: Unknown name (listing the valid ones), unknown parameter (listing the
            baseline's parameters), a bad parameter value, or a knob the env does not control.
    """
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; valid baselines: {', '.join(BASELINES)}")
    cls = BASELINES[name]
    valid = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "actions")]
    unknown = [p for p in params if p not in valid]
    if unknown:
        raise ValueError(
            f"baseline {name!r} has no parameter {unknown[0]!r}; parameters: "
            f"{', '.join(valid) or 'none'}"
        )
    return cls(actions, **params)
