"""Conditional graph denoiser of the diffusion head: predicts v for every node of a scene.

The state of a super-step is the per-node vector of normalised KPIs (:mod:`..data`): UE
``[n_ues, 3]`` (RSRP − Φ, SINR − Φ, log1p throughput) and cell ``[n_cells, 2]`` (PRB
utilisation, log1p throughput), standardised per dimension (``shift`` / ``scale`` below).
All nodes of a scene share one noise level, so a sample is one joint draw of the scene.

Architecture (per node type, hidden width ``H``):

1. ``h = W_x x_t + e + τ(λ)``: the noisy state, the condition embedding ``e = MLP(c)`` (or the
   learned null embedding where the condition is dropped, for classifier-free guidance, Ho &
   Salimans 2022, §3.2), and a Fourier embedding of the log-SNR λ;
2. ``n_layers`` × [hetero message passing over the twin's edge types (one ``TransformerConv``
   per relation with the Φ link attributes as edge features, Shi et al. 2021) + residual +
   LayerNorm, then a FiLM-modulated MLP (scale/shift from τ(λ)) + residual] — so draws are
   spatially coherent: a UE's SINR innovation sees its serving and interfering cells', a cell's
   PRB utilisation sees its UEs';
3. a zero-initialised linear read-out of v (Salimans & Ho 2022, §4).

Target (``DenoiserConfig.target``): ``"raw"`` diffuses ``y`` itself, ``"innovation"`` diffuses
``y − p50`` (the twin's quantile median, :mod:`.conditioning`). Measured on the held-out
``umi-dense`` replicas (24 scenes, 32 draws, the bundled twin of 2026-11-25 18:20, both heads
trained 40 epochs with the same data and seed; mean over the 5 continuous KPIs of model/floor):

============  ====================  ====================  ======================
target        CRPS/floor (DDPM-32)  ES/floor (DDPM-32)    SINR ≤ SNR admissible
============  ====================  ====================  ======================
raw           1.094                 1.051                 0.984
innovation    1.105                 1.062                 0.932
============  ====================  ====================  ======================

(simulator: 0.988 admissible; quantile head 1.181 / 1.115 / 0.782). The raw target is the
default: it scores slightly better and, painting RSRP and SINR jointly from scratch rather
than around two independently predicted medians, respects SINR ≤ SNR as often as the
simulator does. ``docs/diffusion.md`` has the per-KPI table.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch_geometric.nn import HeteroConv, TransformerConv

from ..graph import EDGE_TYPES, LINK_FEATURES, NEIGHBOUR_FEATURES, EdgeType
from .conditioning import cond_dims
from .next_state import PREV_DIMS

TARGETS = ("innovation", "raw")


@dataclass(frozen=True)
class DenoiserConfig:
    """Architecture of the denoiser and the standardisation of its state (stored in JSON).

    Attributes:
        hidden: Width ``H``.
        n_layers: Message-passing layers.
        heads: Attention heads per relation (``hidden`` must be a multiple).
        n_freqs: Fourier frequencies of the log-SNR embedding.
        target: ``"raw"`` (y, the default: measured better, module docstring) or
            ``"innovation"`` (y − twin p50).
        cond_dropout: Probability, per scene in training, of replacing the condition by the
            null embedding (classifier-free guidance).
        use_activity: Also condition UEs on their activity (the twin's Bernoulli draw at
            sampling, the simulator's flag in training), so throughput and PRB utilisation
            agree with which UEs are active.
        twin_hidden: Width of the twin's embeddings (from the twin).
        prb_atom: The twin draws PRB utilisation = 1 itself (its mixed PRB head,
            ``TwinConfig.prb_full``) and the head paints PRB only below it: trained on the
            loaded cells with PRB < 1, its PRB draw is used where the twin's atom draw is 0.
        next_state: Condition every UE on its KPIs of the previous super-step, the head's own
            draw when sampling (:mod:`.next_state`, GenCast-style autoregression).
        ue_shift: Per-dimension mean of the UE target (before ``/ scale``), 3 values.
        ue_scale: Per-dimension std of the UE target, 3 values.
        cell_shift: As ``ue_shift`` for cells, 2 values.
        cell_scale: As ``ue_scale`` for cells, 2 values.
    """

    hidden: int = 64
    n_layers: int = 3
    heads: int = 2
    n_freqs: int = 16
    target: str = "raw"
    cond_dropout: float = 0.1
    use_activity: bool = True
    twin_hidden: int = 64
    prb_atom: bool = False
    next_state: bool = False
    ue_shift: tuple[float, ...] = (0.0, 0.0, 0.0)
    ue_scale: tuple[float, ...] = (1.0, 1.0, 1.0)
    cell_shift: tuple[float, ...] = (0.0, 0.0)
    cell_scale: tuple[float, ...] = (1.0, 1.0)

    def __post_init__(self) -> None:
        for name in ("hidden", "n_layers", "heads", "n_freqs", "twin_hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be a multiple of heads ({self.heads})")
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {self.target!r}")
        if not 0.0 <= self.cond_dropout < 1.0:
            raise ValueError(f"cond_dropout must be in [0, 1), got {self.cond_dropout}")
        for name, n in (("ue_shift", 3), ("ue_scale", 3), ("cell_shift", 2), ("cell_scale", 2)):
            v = tuple(float(a) for a in getattr(self, name))
            if len(v) != n:
                raise ValueError(f"{name} must have {n} values, got {len(v)}")
            if name.endswith("scale") and not all(a > 0 for a in v):
                raise ValueError(f"{name} must be > 0 everywhere, got {v}")
            object.__setattr__(self, name, v)  # JSON lists -> tuples (hashable, frozen)

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return asdict(self)


def _edge_dim(et: EdgeType) -> int:
    return len(NEIGHBOUR_FEATURES) if et[1] == "neighbours" else len(LINK_FEATURES)


class LogSnrEmbedding(nn.Module):
    """Fourier features of the log-SNR, then an MLP (cf. VDM Appendix B, Fourier features).

    **Input:** ``logsnr: [n]``. **Output:** ``[n, H]``.
    """

    def __init__(self, hidden: int, n_freqs: int):
        super().__init__()
        # frequencies spaced geometrically over the λ range [-15, 15]: periods 2 … 120
        freqs = torch.exp(torch.linspace(math.log(2 * math.pi / 120), math.log(math.pi), n_freqs))
        self.register_buffer("freqs", freqs, persistent=False)
        self.mlp = nn.Sequential(
            nn.Linear(2 * n_freqs + 1, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
        )

    def reset_parameters(self) -> None:
        """Re-initialise the MLP."""
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, logsnr: torch.Tensor) -> torch.Tensor:  # noqa: D102
        freqs: torch.Tensor = self.freqs  # type: ignore[assignment]
        arg = logsnr[:, None] * freqs  # [n, F]
        return self.mlp(torch.cat([arg.sin(), arg.cos(), logsnr[:, None] / 15], -1))


class _Block(nn.Module):
    """One message-passing layer + FiLM MLP, per node type."""

    def __init__(self, h: int, heads: int):
        super().__init__()
        self.conv = HeteroConv(
            {
                et: TransformerConv((h, h), h // heads, heads=heads, edge_dim=_edge_dim(et))
                for et in EDGE_TYPES
            },
            aggr="sum",
        )
        self.norm1 = nn.ModuleDict({nt: nn.LayerNorm(h) for nt in ("ue", "cell")})
        self.norm2 = nn.ModuleDict(
            {nt: nn.LayerNorm(h, elementwise_affine=False) for nt in ("ue", "cell")}
        )
        self.film = nn.ModuleDict({nt: nn.Linear(h, 2 * h) for nt in ("ue", "cell")})
        self.mlp = nn.ModuleDict(
            {
                nt: nn.Sequential(nn.Linear(h, 2 * h), nn.SiLU(), nn.Linear(2 * h, h))
                for nt in ("ue", "cell")
            }
        )

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and isinstance(m, nn.Linear | TransformerConv | nn.LayerNorm):
                m.reset_parameters()

    def forward(self, h, temb, edge_index, edge_attr):
        out = self.conv(h, edge_index, edge_attr_dict=edge_attr)
        new = {}
        for nt in h:
            m = out.get(nt)
            x = self.norm1[nt](h[nt] + (F.silu(m) if m is not None else 0.0))  # [n, H]
            scale, shift = self.film[nt](temb[nt]).chunk(2, -1)  # [n, H] each
            new[nt] = x + self.mlp[nt](self.norm2[nt](x) * (1 + scale) + shift)
        return new


class Denoiser(nn.Module):
    """v-prediction network over a (possibly replicated) batch of scene graphs.

    Args:
        cfg: Architecture (see :class:`DenoiserConfig`).
    """

    def __init__(self, cfg: DenoiserConfig = DenoiserConfig()):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        c_ue, c_cell = cond_dims(cfg.twin_hidden)
        c_ue += int(cfg.use_activity) + (PREV_DIMS if cfg.next_state else 0)
        self.dims = {"ue": 3, "cell": 2}
        self.x_in = nn.ModuleDict({nt: nn.Linear(d, h) for nt, d in self.dims.items()})
        self.cond = nn.ModuleDict(
            {
                nt: nn.Sequential(nn.Linear(c, h), nn.SiLU(), nn.Linear(h, h))
                for nt, c in (("ue", c_ue), ("cell", c_cell))
            }
        )
        self.null = nn.ParameterDict({nt: nn.Parameter(torch.zeros(h)) for nt in self.dims})
        self.temb = LogSnrEmbedding(h, cfg.n_freqs)
        self.blocks = nn.ModuleList(_Block(h, cfg.heads) for _ in range(cfg.n_layers))
        self.out = nn.ModuleDict({nt: nn.Linear(h, d) for nt, d in self.dims.items()})
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every layer; the null embeddings and the read-out start at zero."""
        for m in self.modules():
            reset = getattr(m, "reset_parameters", None)
            if m is not self and callable(reset) and not isinstance(m, Denoiser):
                reset()
        for p in self.null.values():
            nn.init.normal_(p, std=0.02)
        for lin in self.out.values():
            assert isinstance(lin, nn.Linear)
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(
        self,
        x_ue: torch.Tensor,
        x_cell: torch.Tensor,
        logsnr_ue: torch.Tensor,
        logsnr_cell: torch.Tensor,
        cond_ue: torch.Tensor,
        cond_cell: torch.Tensor,
        edge_index: dict[EdgeType, torch.Tensor],
        edge_attr: dict[EdgeType, torch.Tensor],
        drop_ue: torch.Tensor | None = None,
        drop_cell: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Predict v at every node.

        Input:
            x_ue: ``[n_ues, 3]`` noisy standardised UE state ``x_t``.
            x_cell: ``[n_cells, 2]`` noisy standardised cell state.
            logsnr_ue: ``[n_ues]`` log-SNR of each UE's scene (one per scene).
            logsnr_cell: ``[n_cells]`` log-SNR of each cell's scene.
            cond_ue: ``[n_ues, C_ue]`` condition (+ activity column if ``use_activity``, + the
                :data:`~.next_state.PREV_DIMS` columns if ``next_state``).
            cond_cell: ``[n_cells, C_cell]`` condition.
            edge_index: per edge type ``[2, E]``; edge_attr: per edge type ``[E, F_e]``.
            drop_ue: ``[n_ues]`` bool, use the null embedding instead of the condition
                (classifier-free guidance); ``None`` = keep every condition.
            drop_cell: ``[n_cells]`` bool, likewise.

        Output:
            ``(v_ue [n_ues, 3], v_cell [n_cells, 2])``.
        """
        x = {"ue": x_ue, "cell": x_cell}
        cond = {"ue": cond_ue, "cell": cond_cell}
        drop = {"ue": drop_ue, "cell": drop_cell}
        lam = {"ue": logsnr_ue, "cell": logsnr_cell}
        temb, h = {}, {}
        for nt in ("ue", "cell"):
            e = self.cond[nt](cond[nt])  # [n, H]
            d = drop[nt]
            if d is not None:
                e = torch.where(d[:, None], self.null[nt].expand_as(e), e)
            temb[nt] = self.temb(lam[nt])  # [n, H]
            h[nt] = self.x_in[nt](x[nt]) + e + temb[nt]  # [n, H]
        for block in self.blocks:
            h = block(h, temb, edge_index, edge_attr)
        return self.out["ue"](h["ue"]), self.out["cell"](h["cell"])
