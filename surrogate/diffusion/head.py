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
from ..slow import SlowState
from ..twin import Twin
from .conditioning import Conditioning, conditioning, replicate_edges
from .denoiser import Denoiser, DenoiserConfig
from .next_state import PREV_DIMS, mask_inactive_throughput, previous_columns
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

    def ue_condition(
        self,
        cond: Conditioning,
        active: torch.Tensor | None,
        previous: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """UE condition with the activity column and the next-state columns when configured.

        Input:
            cond: The batch's condition (``cond.ue [n_ues, C]``).
            active: ``[n_ues]`` or ``[S, n_ues]`` bool/float (``use_activity``).
            previous: ``[n_ues, 6]`` or ``[S, n_ues, 6]`` (``next_state``,
                :func:`.next_state.previous_columns`).

        Output:
            ``[n_ues, C']`` when every extra column is shared by the samples, else
            ``[S * n_ues, C']`` (sample-major).
        """
        extra: list[torch.Tensor] = []  # [n_ues, k] or [S, n_ues, k]
        if self.cfg.use_activity:
            if active is None:
                raise ValueError(
                    "active is None but this diffusion head was trained with use_activity=True: "
                    "pass the UE activity draws ([S, n_ues] bool, e.g. TwinSample.ue_active)"
                )
            extra.append(active.to(cond.ue.dtype)[..., None])
        if self.cfg.next_state:
            if previous is None:
                raise ValueError(
                    "previous is None but this diffusion head has next_state=True: pass "
                    "next_state.previous_columns(...) ([n_ues, 6] or [S, n_ues, 6])"
                )
            extra.append(previous.to(cond.ue.dtype))
        if not extra:
            return cond.ue
        n_s = max((e.shape[0] if e.dim() == 3 else 1) for e in extra)
        if n_s == 1 and all(e.dim() == 2 for e in extra):
            return torch.cat([cond.ue, *extra], -1)  # [n_ues, C']
        parts = [cond.ue.expand(n_s, -1, -1)]
        parts += [e if e.dim() == 3 else e.expand(n_s, -1, -1) for e in extra]
        out = torch.cat(parts, -1)  # [S, n_ues, C']
        return out.reshape(n_s * cond.n_ues, -1)  # [S * n_ues, C']

    def previous(self, slow: SlowState | None, n_samples: int, n_ues: int) -> torch.Tensor | None:
        """The next-state columns ``[S, n_ues, 6]`` from the previous step's state, or ``None``.

        ``slow.score`` holds the head's previous draw (:meth:`state_after`); ``slow=None``
        (an episode's first step) gives the columns of an absent previous step.
        """
        if not self.cfg.next_state:
            return None
        if slow is None:  # what previous_columns gives for an absent step: all zeros
            dev = next(self.denoiser.parameters()).device
            return torch.zeros((n_samples, n_ues, PREV_DIMS), device=dev)
        if tuple(slow.score.shape) != (n_samples, n_ues, 3):
            raise ValueError(
                f"slow.score must be [S={n_samples}, n_ues={n_ues}, 3] (the previous draw), "
                f"got {tuple(slow.score.shape)}"
            )
        return previous_columns(slow.score, slow.moved_m, slow.d_corr_m, *self.ue_standardisation())

    def ue_standardisation(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(ue_shift [3], ue_scale [3])`` buffers."""
        shift: torch.Tensor = self.ue_shift  # type: ignore[assignment]
        scale: torch.Tensor = self.ue_scale  # type: ignore[assignment]
        return shift, scale

    def state_after(self, ue_draw: torch.Tensor, active: torch.Tensor) -> torch.Tensor | None:
        """What the next super-step conditions on (``None`` for a head without ``next_state``).

        **Input:** ``ue_draw [S, n_ues, 3]``, ``active [S, n_ues]`` bool. **Output:** the
        draw with throughput 0 where inactive, ``[S, n_ues, 3]``.
        """
        if not self.cfg.next_state:
            return None
        return mask_inactive_throughput(ue_draw, active)

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
        slow: SlowState | None = None,
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
            slow: For a ``next_state`` head, the previous super-step of the same scenes and
                members (``score`` = :meth:`state_after` of that step ``[S, n_ues, 3]``, NaN
                rows for UEs at their first step; distance moved; decorrelation distance);
                ``None`` at an episode's first step. Ignored by other heads.

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
        prev = self.previous(slow, n_samples, cond.n_ues)  # [S, n_ues, 6] or None
        dev = cond.ue_base.device
        fn = self.model_fn(cond, n_samples, sampler.guidance, active, prev)
        shapes = [(n_samples, cond.n_ues, 3), (n_samples, cond.n_cells, 2)]
        x_ue, x_cell = sample(
            fn, shapes, self.schedule, sampler, generator, [ue_n, cell_n], device=dev
        )
        return self.from_state(x_ue, x_cell, cond)

    def model_fn(
        self,
        cond: Conditioning,
        n_samples: int,
        guidance: float,
        active: torch.Tensor | None,
        previous: torch.Tensor | None = None,
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
        c_ue = self.ue_condition(cond, active, previous)  # [n_ues, C] or [S * n_ues, C']
        if c_ue.shape[0] != n_s * cond.n_ues:  # no per-sample column: same for every copy
            c_ue = c_ue.repeat(n_s, 1)  # [S * n_ues, C]
        c_cell = cond.cell.repeat(n_s, 1)  # [S * n_cells, C]
        if mode == "cfg":
            c_ue, c_cell = c_ue.repeat(2, 1), c_cell.repeat(2, 1)
        half_u, half_c = n_s * cond.n_ues, n_s * cond.n_cells
        dev = c_cell.device
        drop_u = torch.zeros(n_copy * cond.n_ues, dtype=torch.bool, device=dev)
        drop_c = torch.zeros(n_copy * cond.n_cells, dtype=torch.bool, device=dev)
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
            logsnr = logsnr.to(dev)  # the solver's grid lives on the CPU
            lu = logsnr.expand(xu.shape[0])  # [n_copies * n_ues]
            lc = logsnr.expand(xc.shape[0])
            vu, vc = self.denoiser(xu, xc, lu, lc, c_ue, c_cell, ei, ea, drop_u, drop_c)
            if mode == "cfg":
                vu = vu[half_u:] + w * (vu[:half_u] - vu[half_u:])  # [S * n_ues, 3]
                vc = vc[half_c:] + w * (vc[:half_c] - vc[half_c:])  # [S * n_cells, 2]
            return vu.reshape(x_ue.shape), vc.reshape(x_cell.shape)

        return fn
