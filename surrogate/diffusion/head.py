"""The diffusion head of the twin: denoiser + schedule + standardisation, and how it samples.

:meth:`DiffusionHead.sample` returns *normalised* draws with exactly the shapes and units of the
quantile draws of :meth:`rantwin.surrogate.twin.Twin.sample` (``u_draw [S, n_ues, 3]``,
``c_draw [S, n_cells, 2]``, :mod:`rantwin.surrogate.data` units), so the twin can use it in
their place and keep imposing Φ's structure on the way out (RSRP = Φ + 10·res, sleeping cells
carry nothing, energy from the EARTH model): ``Twin(..., head=)`` or
:meth:`~rantwin.surrogate.twin.Twin.with_head` does that.
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn
from torch_geometric.data import HeteroData

from ..model import TwinModel
from ..twin import Twin
from .conditioning import Conditioning, conditioning, replicate_edges
from .denoiser import Denoiser, DenoiserConfig
from .sampler import DEFAULT_SAMPLER, GeneratorArg, SamplerConfig, State, sample
from .schedule import DEFAULT_SCHEDULE, CosineSchedule


def twin_fingerprint(model: TwinModel) -> str:
    """SHA-256 of a twin's weights (names, shapes, dtypes and bytes, in name order)."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        t = t.detach().contiguous().cpu()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype};".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


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
            batch: Batched graph of ``B`` scenes (as ``Twin.sample`` batches them).
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
