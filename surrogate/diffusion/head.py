"""The diffusion head of the twin: denoiser + schedule + standardisation, and how it samples.

:meth:`DiffusionHead.sample` returns *normalised* draws with exactly the shapes and units of the
quantile draws of :meth:`rantwin.surrogate.twin.Twin.sample` (``u_draw [S, n_ues, 3]``,
``c_draw [S, n_cells, 2]``, :mod:`rantwin.surrogate.data` units), so the twin can use it in
their place and keep imposing Φ's structure on the way out (RSRP = Φ + 10·res, sleeping cells
carry nothing, energy from the EARTH model). :func:`sample_twin` does that assembly from
outside the twin (until ``Twin.sample`` takes a head), and :class:`DiffusionTwin` is a
drop-in for :class:`~rantwin.surrogate.twin.Twin` in :func:`rantwin.surrogate.evaluate.collect`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch_geometric.data import Batch, HeteroData

from rantwin.radio.energy import cell_power_w

from ..data import TARGET_SCALE
from ..model import TwinModel
from ..twin import Twin, TwinSample
from .conditioning import Conditioning, conditioning, replicate_edges
from .denoiser import Denoiser, DenoiserConfig
from .sampler import DEFAULT_SAMPLER, REFERENCE, GeneratorArg, SamplerConfig, State, sample
from .schedule import DEFAULT_SCHEDULE, CosineSchedule


def twin_fingerprint(model: TwinModel) -> str:
    """SHA-256 of a twin's weights (names, shapes, dtypes and bytes, in name order)."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        t = t.detach().contiguous().cpu()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype};".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def as_batch(graphs: HeteroData | list[HeteroData]) -> HeteroData:
    """One graph, a list of graphs, or a ``build_batch`` output → one batched graph."""
    if isinstance(graphs, list):
        return Batch.from_data_list(graphs)
    if getattr(graphs, "num_scenes", None) is not None or hasattr(graphs, "num_graphs"):
        return graphs
    return Batch.from_data_list([graphs])


class DiffusionHead(nn.Module):
    """Conditional diffusion over the normalised KPIs of a super-step.

    Args:
        cfg: Denoiser architecture and state standardisation.
        schedule: Noise schedule.
    """

    def __init__(self, cfg: DenoiserConfig, schedule: CosineSchedule = DEFAULT_SCHEDULE):
        super().__init__()
        self.cfg = cfg
        self.schedule = schedule
        self.denoiser = Denoiser(cfg)
        for name, v in (
            ("ue_shift", cfg.ue_shift),
            ("ue_scale", cfg.ue_scale),
            ("cell_shift", cfg.cell_shift),
            ("cell_scale", cfg.cell_scale),
        ):
            self.register_buffer(name, torch.tensor(v, dtype=torch.float32), persistent=False)

    def reset_parameters(self) -> None:
        """Re-initialise the denoiser."""
        self.denoiser.reset_parameters()

    # ------------------------------------------------------------------ state <-> KPIs
    def to_state(self, y_ue, y_cell, cond: Conditioning) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised KPIs → standardised state ``x_0``.

        **Input:** ``y_ue: [..., n_ues, 3]``, ``y_cell: [..., n_cells, 2]``.
        **Output:** same shapes: ``(y − base − shift) / scale`` (``base`` = twin p50 for the
        innovation target, 0 for the raw target).
        """
        inn = self.cfg.target == "innovation"
        bu = cond.ue_base if inn else torch.zeros_like(cond.ue_base)  # [n_ues, 3]
        bc = cond.cell_base if inn else torch.zeros_like(cond.cell_base)  # [n_cells, 2]
        return (
            (y_ue - bu - self.ue_shift) / self.ue_scale,
            (y_cell - bc - self.cell_shift) / self.cell_scale,
        )

    def from_state(self, x_ue, x_cell, cond: Conditioning) -> tuple[torch.Tensor, torch.Tensor]:
        """Inverse of :meth:`to_state`."""
        inn = self.cfg.target == "innovation"
        bu = cond.ue_base if inn else torch.zeros_like(cond.ue_base)
        bc = cond.cell_base if inn else torch.zeros_like(cond.cell_base)
        return (
            x_ue * self.ue_scale + self.ue_shift + bu,
            x_cell * self.cell_scale + self.cell_shift + bc,
        )

    def ue_condition(self, cond: Conditioning, active: torch.Tensor | None) -> torch.Tensor:
        """UE condition with the activity column when configured.

        **Input:** ``active: [n_ues]`` or ``[S, n_ues]`` bool/float. **Output:** ``[n_ues, C]``
        or ``[S * n_ues, C]`` (sample-major).
        """
        if not self.cfg.use_activity:
            return cond.ue
        if active is None:
            raise ValueError(
                "active is None but this diffusion head was trained with use_activity=True: "
                "pass the UE activity draws ([S, n_ues] bool, e.g. TwinSample.ue_active)"
            )
        a = active.to(cond.ue.dtype)
        if a.dim() == 1:
            return torch.cat([cond.ue, a[:, None]], -1)  # [n_ues, C + 1]
        n_s = a.shape[0]
        return torch.cat([cond.ue.repeat(n_s, 1), a.reshape(-1, 1)], -1)  # [S * n_ues, C + 1]

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(
        self,
        twin: Twin | TwinModel,
        batch: HeteroData,
        n_samples: int,
        generator: GeneratorArg = None,
        sampler: SamplerConfig = DEFAULT_SAMPLER,
        active: torch.Tensor | None = None,
        embeddings: dict[str, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Joint draws of every scene's normalised KPIs.

        Input:
            twin: The (frozen) twin this head was trained on, or its network.
            batch: Batched graph of ``B`` scenes (:func:`as_batch`).
            n_samples: Ensemble size ``S``.
            generator: One generator, one per scene (scene ``b``'s draws from ``generator[b]``
                only), or ``None``.
            sampler: Sampler config (kind, steps, guidance ``w``).
            active: ``[S, n_ues]`` bool UE activity of each draw (needed when the head was
                trained with ``use_activity``).
            embeddings: ``twin.embed(batch)`` if already computed.

        Output:
            ``(ue [S, n_ues, 3], cell [S, n_cells, 2])`` in the units of ``data["ue"].y`` /
            ``data["cell"].y`` (the quantile draws ``u_draw`` / ``c_draw`` of ``Twin.sample``).
        """
        if n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}")
        if active is not None and tuple(active.shape[:1]) != (n_samples,):
            raise ValueError(f"active must be [S={n_samples}, n_ues], got {tuple(active.shape)}")
        model = twin.model if isinstance(twin, Twin) else twin
        cond = conditioning(model, batch, embeddings)
        ue_n, cell_n = cond.scene_counts()
        fn = self.model_fn(cond, n_samples, sampler.guidance, active)
        shapes = [(n_samples, cond.n_ues, 3), (n_samples, cond.n_cells, 2)]
        x_ue, x_cell = sample(fn, shapes, self.schedule, sampler, generator, [ue_n, cell_n])
        return self.from_state(x_ue, x_cell, cond)

    def model_fn(
        self, cond: Conditioning, n_samples: int, guidance: float, active: torch.Tensor | None
    ):
        """The guided v-prediction ``(x_t, λ) -> v`` over ``S`` copies of the batch.

        Classifier-free guidance (Ho & Salimans 2022, eq. 6): ``v = v_∅ + w (v_c − v_∅)``;
        for ``w ∉ {0, 1}`` the conditional and unconditional copies go through the network in
        one call (``2S`` copies of the graph).
        """
        n_s = n_samples
        mode = "cond" if guidance == 1.0 else "uncond" if guidance == 0.0 else "cfg"
        n_copy = 2 * n_s if mode == "cfg" else n_s
        n_nodes = {"ue": cond.n_ues, "cell": cond.n_cells}
        ei, ea = replicate_edges(cond.edge_index, cond.edge_attr, n_nodes, n_copy)
        c_ue = self.ue_condition(cond, active)  # [n_ues, C] or [S * n_ues, C + 1]
        if c_ue.shape[0] != n_s * cond.n_ues:  # no per-sample column: same for every copy
            c_ue = c_ue.repeat(n_s, 1)  # [S * n_ues, C]
        c_cell = cond.cell.repeat(n_s, 1)  # [S * n_cells, C]
        if mode == "cfg":
            c_ue, c_cell = c_ue.repeat(2, 1), c_cell.repeat(2, 1)
        half_u, half_c = n_s * cond.n_ues, n_s * cond.n_cells
        drop_u = torch.zeros(n_copy * cond.n_ues, dtype=torch.bool)
        drop_c = torch.zeros(n_copy * cond.n_cells, dtype=torch.bool)
        if mode == "uncond":
            drop_u[:], drop_c[:] = True, True
        elif mode == "cfg":
            drop_u[half_u:], drop_c[half_c:] = True, True
        w = float(guidance)

        def fn(x: State, logsnr: torch.Tensor) -> State:
            x_ue, x_cell = x  # [S, n_ues, 3], [S, n_cells, 2]
            xu, xc = x_ue.reshape(-1, 3), x_cell.reshape(-1, 2)  # [S * n, d]
            if mode == "cfg":
                xu, xc = xu.repeat(2, 1), xc.repeat(2, 1)  # [2S * n, d]
            lu = logsnr.expand(xu.shape[0])  # [n_copies * n_ues]
            lc = logsnr.expand(xc.shape[0])
            vu, vc = self.denoiser(xu, xc, lu, lc, c_ue, c_cell, ei, ea, drop_u, drop_c)
            if mode == "cfg":
                vu = vu[half_u:] + w * (vu[:half_u] - vu[half_u:])  # [S * n_ues, 3]
                vc = vc[half_c:] + w * (vc[:half_c] - vc[half_c:])  # [S * n_cells, 2]
            return vu.reshape(x_ue.shape), vc.reshape(x_cell.shape)

        return fn


def assemble(base: TwinSample, batch: HeteroData, ue: torch.Tensor, cell: torch.Tensor):
    """Replace the continuous KPIs of a twin sample by diffusion draws, as ``Twin.sample`` does.

    Input:
        base: A sample of the twin (its events — activity, handovers — are kept).
        batch: The batched graph it was drawn on.
        ue: ``[S, n_ues, 3]`` normalised UE draws; cell: ``[S, n_cells, 2]``.

    Output:
        :class:`TwinSample` with RSRP = Φ + 10·ue[..., 0], SINR = Φ + 10·ue[..., 1],
        throughput = expm1(2·ue[..., 2]) × active, PRB utilisation clamped to [0, 1] and cell
        throughput = expm1(3·cell[..., 1]), both × loaded (awake and some Φ-served UE active
        in the draw), and EARTH energy at that utilisation (the rules of ``Twin.sample``).
    """
    s = TARGET_SCALE
    u, c = batch["ue"], batch["cell"]
    awake = c.awake  # [n_cells]
    thr = torch.expm1((ue[..., 2] * s["ue_log_thr"]).clamp(0, 7)) * base.ue_active
    # a cell carries load only if awake and one of its Φ-served UEs is active in this draw (the
    # simulator's PRB utilisation and cell throughput are 0 exactly then; as Twin.sample)
    counts = torch.bincount(base.cell_scene)  # [B]
    first = torch.cumsum(counts, 0) - counts  # [B] index of each scene's first cell
    ue_cell = first[base.ue_scene] + base.ue_serving  # [n_ues] global cell index
    n_active = torch.zeros(ue.shape[0], awake.numel()).index_add_(
        1, ue_cell, base.ue_active.float()
    )  # [S, n_cells]
    loaded = awake & (n_active > 0)  # [S, n_cells]
    prb = cell[..., 0].clamp(0, 1) * loaded  # [S, n_cells]
    cell_thr = torch.expm1((cell[..., 1] * s["cell_log_thr"]).clamp(0, 9)) * loaded
    tx = c.x[:, 0] * 10 + 40  # CELL_FEATURES[0] = (P_tx − 40) / 10
    small = c.x[:, 8] > 0.5
    energy = cell_power_w(prb, tx.expand_as(prb), awake.expand_as(prb), small)
    return dataclasses.replace(
        base,
        ue_rsrp_dbm=u.phi_rsrp_dbm + s["rsrp_db"] * ue[..., 0],
        ue_sinr_db=u.phi_sinr_db + s["sinr_db"] * ue[..., 1],
        ue_throughput_mbps=thr,
        cell_prb_util=prb,
        cell_throughput_mbps=cell_thr,
        cell_energy_w=energy,
    )


@torch.no_grad()
def sample_twin(
    twin: Twin,
    head: DiffusionHead,
    graphs: HeteroData | list[HeteroData],
    n_samples: int,
    generator: GeneratorArg = None,
    sampler: SamplerConfig = DEFAULT_SAMPLER,
) -> TwinSample:
    """``Twin.sample`` with the diffusion head painting the continuous KPIs.

    The twin draws its events first (activity, handovers; from ``generator`` as usual), then the
    head draws the KPIs conditioned on that activity (from the same generator(s), after).
    Per-TTI samples are not drawn (``n_ttis = 0``).
    """
    batch = as_batch(graphs)
    base = twin.sample(batch, n_samples, generator)
    ue, cell = head.sample(twin, batch, n_samples, generator, sampler, active=base.ue_active)
    return assemble(base, batch, ue, cell)


class DiffusionTwin:
    """A :class:`~rantwin.surrogate.twin.Twin` look-alike whose ``sample`` uses the head.

    Enough for :func:`rantwin.surrogate.evaluate.collect` and the bench (``graph``,
    ``graphs``, ``sample``, ``meta``, ``model``).

    Args:
        twin: The frozen twin.
        head: The diffusion head trained on it.
        sampler: Sampler used by :meth:`sample`.
    """

    def __init__(self, twin: Twin, head: DiffusionHead, sampler: SamplerConfig = REFERENCE):
        self.twin, self.head, self.sampler = twin, head.eval(), sampler
        self.model, self.meta = twin.model, twin.meta

    def graph(self, inp: Any) -> HeteroData:
        """As :meth:`Twin.graph`."""
        return self.twin.graph(inp)

    def graphs(self, scenes: Any) -> HeteroData:
        """As :meth:`Twin.graphs`."""
        return self.twin.graphs(scenes)

    def sample(
        self,
        graphs: HeteroData | list[HeteroData],
        n_samples: int,
        generator: torch.Generator | Sequence[torch.Generator] | None = None,
        n_ttis: int = 0,
    ) -> TwinSample:
        """As :meth:`Twin.sample` (``n_ttis`` must be 0 for now)."""
        if n_ttis:
            raise ValueError(f"n_ttis must be 0 with the diffusion head for now, got {n_ttis}")
        return sample_twin(self.twin, self.head, graphs, n_samples, generator, self.sampler)
