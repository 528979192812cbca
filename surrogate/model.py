"""The twin network: hetero-GNN backbone, scene latent (CVAE) and type-specific heads.

- **v0**: per-type encoders → ``n_layers`` heterogeneous message-passing layers → heads.
  ``conv="transformer"`` (default) uses one ``TransformerConv`` per relation with the Φ link
  attributes as edge features (Shi et al. 2021, "Masked label prediction", the graph
  transformer with edge features); ``conv="hgt"`` uses ``HGTConv`` (Hu et al. 2020), which
  has type-specific attention but no edge attributes, so the Φ links only enter through node
  features. Both are kept so that the choice is measured, not assumed.
- **v0.5**: ``latent_dim > 0`` adds a scene latent z (conditional VAE, Sohn et al. 2015):
  prior p(z | graph), posterior q(z | graph, KPIs) used only in training, and z fed to every
  head; one z per scene and sample couples all nodes of the scene. Loss = reconstruction +
  β·KL with free bits (Kingma et al. 2016, IAF, eq. 13) against posterior collapse.
- **Heads**: UE quantiles of (RSRP − Φ RSRP, SINR − Φ SINR, log1p throughput); cell quantiles
  of (PRB utilisation, log1p throughput); events: UE active (Bernoulli), UE handovers and
  cell outgoing handovers (Poisson).
- **Saturated PRB utilisation** (``prb_full``): a loaded cell's PRB utilisation has an atom at
  exactly 1 (every PRB of every TTI in use: 98 % of the loaded cell-steps of the held-out
  family at midnight, where the quantile draws of a twin without it were 27 % exactly 1)
  next to a continuous part in (0, 1). A quantile head cannot put mass on a point (its
  quantiles are strictly increasing), so with ``prb_full`` the twin models the mixture: a
  Bernoulli logit per cell for ``PRB = 1`` and the PRB quantiles of the unsaturated part
  (a hurdle / two-part model, Mullahy 1986, J. Econometrics 33(3)).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch_geometric.nn import HeteroConv, HGTConv, TransformerConv, global_mean_pool

from .graph import (
    CELL_FEATURES,
    EDGE_TYPES,
    LINK_FEATURES,
    METADATA,
    NEIGHBOUR_FEATURES,
    UE_FEATURES,
)
from .quantiles import QuantileHead
from .slow import SlowHead
from .ssm import TtiHead

UE_KPIS = ("rsrp_res", "sinr_res", "log_thr")
CELL_KPIS = ("prb_util", "log_thr")


@dataclass(frozen=True)
class TwinConfig:
    """Architecture of the twin (stored in the checkpoint's JSON)."""

    hidden: int = 64
    n_layers: int = 2
    heads: int = 2
    conv: str = "transformer"  # "transformer" | "hgt"
    latent_dim: int = 0  # 0 = v0; > 0 = v0.5 (CVAE)
    free_bits: float = 0.1  # nats per latent dimension
    beta: float = 1.0
    slow: bool = False  # v1 slow timescale: a per-UE state across super-steps (.slow)
    prb_full: bool = False  # mixed PRB head: P(PRB = 1) per cell + quantiles of PRB < 1

    def __post_init__(self) -> None:
        if self.conv not in ("transformer", "hgt"):
            raise ValueError(f"conv must be 'transformer' or 'hgt', got {self.conv!r}")
        for name in ("hidden", "n_layers", "heads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be a multiple of heads ({self.heads})")
        if self.latent_dim < 0:
            raise ValueError(f"latent_dim must be >= 0, got {self.latent_dim}")

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return asdict(self)


def _edge_dim(et: tuple[str, str, str]) -> int:
    return len(NEIGHBOUR_FEATURES) if et[1] == "neighbours" else len(LINK_FEATURES)


@dataclass(frozen=True)
class TwinOutput:
    """Head outputs for a batch of graphs (normalised units)."""

    ue_q: torch.Tensor  # [n_ues, 3, n_levels]
    cell_q: torch.Tensor  # [n_cells, 2, n_levels]
    ue_active_logit: torch.Tensor  # [n_ues]
    ue_ho_log_rate: torch.Tensor  # [n_ues]
    cell_ho_log_rate: torch.Tensor  # [n_cells]
    cell_full_logit: torch.Tensor | None  # [n_cells] logit of PRB = 1 (cfg.prb_full), else None
    kl: torch.Tensor  # [] KL(q || p) per scene, mean (0 without latent)
    tti_log_sigma: torch.Tensor  # [n_ues] fast timescale: log std of per-TTI SINR (dB)
    tti_log_delta: torch.Tensor  # [n_ues] fast timescale: log decay rate per TTI


@dataclass(frozen=True)
class DrawHeads:
    """What the sampler needs from the network for ``S`` draws (:meth:`TwinModel.draws`)."""

    x: dict[str, torch.Tensor]  # {"ue": [n_ues, H], "cell": [n_cells, H]} embeddings
    ue_q: torch.Tensor  # [S, n_ues, 3, n_levels]
    cell_q: torch.Tensor  # [S, n_cells, 2, n_levels]
    ue_active_logit: torch.Tensor  # [S, n_ues]
    ue_ho_log_rate: torch.Tensor  # [S, n_ues]
    cell_ho_log_rate: torch.Tensor  # [S, n_cells]
    cell_full_logit: torch.Tensor | None  # [S, n_cells] (cfg.prb_full), else None
    tti_log_sigma: torch.Tensor  # [n_ues] shared by every draw (reads the embedding only)
    tti_log_delta: torch.Tensor  # [n_ues]


class TwinModel(nn.Module):
    """Hetero-GNN twin. See the module docstring.

    Args:
        cfg: Architecture.
    """

    def __init__(self, cfg: TwinConfig = TwinConfig()):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.enc = nn.ModuleDict(
            {"cell": nn.Linear(len(CELL_FEATURES), h), "ue": nn.Linear(len(UE_FEATURES), h)}
        )
        self.convs = nn.ModuleList()
        for _ in range(cfg.n_layers):
            if cfg.conv == "hgt":
                self.convs.append(HGTConv(h, h, METADATA, heads=cfg.heads))
            else:
                self.convs.append(
                    HeteroConv(
                        {
                            et: TransformerConv(
                                (h, h), h // cfg.heads, heads=cfg.heads, edge_dim=_edge_dim(et)
                            )
                            for et in EDGE_TYPES
                        },
                        aggr="sum",
                    )
                )
        self.norms = nn.ModuleList(
            nn.ModuleDict({"cell": nn.LayerNorm(h), "ue": nn.LayerNorm(h)})
            for _ in range(cfg.n_layers)
        )
        z = cfg.latent_dim
        if z:
            self.prior = nn.Sequential(nn.Linear(2 * h, h), nn.SiLU(), nn.Linear(h, 2 * z))
            self.post_ue = nn.Linear(h + len(UE_KPIS) + 2, h)
            self.post_cell = nn.Linear(h + len(CELL_KPIS) + 1, h)
            self.posterior = nn.Sequential(nn.Linear(2 * h, h), nn.SiLU(), nn.Linear(h, 2 * z))
        self.ue_head = QuantileHead(h + z, len(UE_KPIS), h)
        self.cell_head = QuantileHead(h + z, len(CELL_KPIS), h)
        self.ue_event = nn.Sequential(nn.Linear(h + z, h), nn.SiLU(), nn.Linear(h, 2))
        self.cell_event = nn.Sequential(nn.Linear(h + z, h), nn.SiLU(), nn.Linear(h, 1))
        if cfg.prb_full:  # the atom of PRB utilisation at 1 (see the module docstring)
            self.prb_full_head = nn.Sequential(nn.Linear(h + z, h), nn.SiLU(), nn.Linear(h, 1))
        self.tti_head = TtiHead(h)  # fast timescale reads the UE embedding (not z)
        if cfg.slow:
            self.slow_head = SlowHead(h)  # slow timescale: ρ per UE of the state recurrence

    def reset_parameters(self) -> None:
        """Re-initialise every sub-module that can be."""
        for m in self.modules():
            reset = getattr(m, "reset_parameters", None)
            if m is not self and callable(reset):
                reset()

    # ----------------------------------------------------------------- backbone
    def embed(self, data) -> dict[str, torch.Tensor]:
        """Node embeddings. **Output:** ``{"cell": [n_cells, H], "ue": [n_ues, H]}``."""
        x = {nt: F.silu(self.enc[nt](data[nt].x)) for nt in ("cell", "ue")}
        for conv, norm in zip(self.convs, self.norms, strict=True):
            if self.cfg.conv == "hgt":
                out = conv(x, data.edge_index_dict)
            else:
                out = conv(x, data.edge_index_dict, edge_attr_dict=data.edge_attr_dict)
            assert isinstance(norm, nn.ModuleDict)
            x = {nt: norm[nt](x[nt] + F.silu(out[nt])) for nt in x}
        return x

    @staticmethod
    def _batch(data, nt: str) -> torch.Tensor:
        store = data[nt]
        if hasattr(store, "batch") and store.batch is not None:
            return store.batch
        return torch.zeros(store.num_nodes, dtype=torch.long, device=store.x.device)

    def scene_summary(
        self, data, x: dict[str, torch.Tensor], n_scenes: int | None = None
    ) -> torch.Tensor:
        """Mean-pooled cell and UE embeddings per scene. **Output:** ``[n_scenes, 2H]``.

        ``n_scenes``: the number of scenes if known (else read from the batch vectors, a
        host sync that would also cut a compiled graph).
        """
        bc, bu = self._batch(data, "cell"), self._batch(data, "ue")
        n = n_scenes if n_scenes is not None else int(max(bc.max(), bu.max())) + 1
        return torch.cat([global_mean_pool(x["cell"], bc, n), global_mean_pool(x["ue"], bu, n)], -1)

    def prior_params(
        self, data, x, n_scenes: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Prior p(z | graph): mean and log-std ``[n_scenes, Z]``."""
        mu, log_s = self.prior(self.scene_summary(data, x, n_scenes)).chunk(2, -1)
        return mu, log_s.clamp(-5, 3)

    def posterior_params(self, data, x) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior q(z | graph, KPIs): mean and log-std ``[n_scenes, Z]``."""
        ue_in = torch.cat(
            [x["ue"], data["ue"].y * data["ue"].y_mask, data["ue"].active[:, None].float(),
             torch.log1p(data["ue"].handovers.float())[:, None]],
            -1,
        )  # fmt: skip
        cell_in = torch.cat(
            [x["cell"], data["cell"].y * data["cell"].y_mask,
             torch.log1p(data["cell"].handovers_out.float())[:, None]],
            -1,
        )  # fmt: skip
        xs = {"ue": F.silu(self.post_ue(ue_in)), "cell": F.silu(self.post_cell(cell_in))}
        mu, log_s = self.posterior(self.scene_summary(data, xs)).chunk(2, -1)
        return mu, log_s.clamp(-5, 3)

    # ----------------------------------------------------------------- heads
    def heads(
        self,
        data,
        x,
        z: torch.Tensor | None,
        tti: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> TwinOutput:
        """Apply the heads given embeddings and (optionally) one z per scene ``[n_scenes, Z]``.

        ``tti``: the fast head's ``(log_sigma, log_delta)`` ``[n_ues]`` if already computed
        (it reads the UE embedding only, so every draw of an ensemble shares it).
        """
        hu, hc = x["ue"], x["cell"]
        if z is not None:
            hu = torch.cat([hu, z[self._batch(data, "ue")]], -1)
            hc = torch.cat([hc, z[self._batch(data, "cell")]], -1)
        log_sigma, log_delta = self.tti_head(x["ue"]) if tti is None else tti
        q_ue, q_cell, active, ue_ho, cell_ho, full = self._node_heads(hu, hc)
        return TwinOutput(
            ue_q=q_ue,
            cell_q=q_cell,
            ue_active_logit=active,
            ue_ho_log_rate=ue_ho,
            cell_ho_log_rate=cell_ho,
            cell_full_logit=full,
            kl=torch.zeros((), device=hu.device),
            tti_log_sigma=log_sigma,
            tti_log_delta=log_delta,
        )

    def _node_heads(
        self, hu: torch.Tensor, hc: torch.Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor | None]:
        """Every head on head inputs (embedding with z appended) of UEs and cells.

        **Input:** ``hu: [n, H + Z]``, ``hc: [m, H + Z]`` (any ``n``, ``m``: nodes of one draw
        or of several stacked). **Output:** UE quantiles ``[n, 3, L]``, cell quantiles
        ``[m, 2, L]``, UE active logit ``[n]``, UE and cell handover log-rates ``[n]``,
        ``[m]`` (clamped) and the logit of PRB = 1 ``[m]`` (``None`` without
        ``cfg.prb_full``).
        """
        ev = self.ue_event(hu)  # [n, 2]
        full = self.prb_full_head(hc)[:, 0] if self.cfg.prb_full else None
        cell_ho = self.cell_event(hc)[:, 0].clamp(-12, 8)
        return self.ue_head(hu), self.cell_head(hc), ev[:, 0], ev[:, 1].clamp(-12, 6), cell_ho, full

    def draws(self, data, eps: torch.Tensor, n_scenes: int) -> DrawHeads:
        """The sampler's forward: embeddings, prior, and every head for ``S`` draws of z.

        All ``S`` draws go through the heads as one stack of rows (one call per layer instead
        of ``S``; :mod:`.compiled` compiles this whole method). Row ``i`` equals
        :meth:`heads` with z of draw ``i`` to float32 rounding (a matmul over more rows may
        take another kernel; for the bundled twin the bits are the same).

        **Input:** ``eps: [S, n_scenes, Z]`` standard normal draws (``Z = 0`` without a
        latent: then every draw has the same heads). **Output:** :class:`DrawHeads`.
        """
        x = self.embed(data)
        n_s = eps.shape[0]
        hu, hc = x["ue"].expand(n_s, -1, -1), x["cell"].expand(n_s, -1, -1)  # [S, n, H]
        if self.cfg.latent_dim:
            mu, log_s = self.prior_params(data, x, n_scenes)  # [B, Z]
            z = mu + eps * log_s.exp()  # [S, B, Z]
            hu = torch.cat([hu, z[:, self._batch(data, "ue")]], -1)  # [S, n_ues, H + Z]
            hc = torch.cat([hc, z[:, self._batch(data, "cell")]], -1)  # [S, n_cells, H + Z]
        q_ue, q_cell, active, ue_ho, cell_ho, full = self._node_heads(
            hu.flatten(0, 1), hc.flatten(0, 1)
        )
        log_sigma, log_delta = self.tti_head(x["ue"])

        def per_draw(t: torch.Tensor) -> torch.Tensor:  # [S·n, ...] -> [S, n, ...]
            return t.unflatten(0, (n_s, -1))

        return DrawHeads(
            x=x,
            ue_q=per_draw(q_ue),
            cell_q=per_draw(q_cell),
            ue_active_logit=per_draw(active),
            ue_ho_log_rate=per_draw(ue_ho),
            cell_ho_log_rate=per_draw(cell_ho),
            cell_full_logit=None if full is None else per_draw(full),
            tti_log_sigma=log_sigma,
            tti_log_delta=log_delta,
        )

    def forward(self, data, generator: torch.Generator | None = None) -> TwinOutput:
        """Training forward: z from the posterior (reparameterised) when there is a latent."""
        x = self.embed(data)
        if not self.cfg.latent_dim:
            return self.heads(data, x, None)
        mu_p, ls_p = self.prior_params(data, x)
        mu_q, ls_q = self.posterior_params(data, x)
        eps = torch.randn(mu_q.shape, generator=generator, dtype=mu_q.dtype, device=mu_q.device)
        z = mu_q + eps * ls_q.exp()
        # KL(N(mu_q, s_q) || N(mu_p, s_p)) per dimension, with free bits
        kl = (
            ls_p - ls_q + ((ls_q.exp() ** 2 + (mu_q - mu_p) ** 2) / (2 * (ls_p.exp() ** 2))) - 0.5
        )  # [n_scenes, Z]
        kl = kl.mean(0).clamp_min(self.cfg.free_bits).sum()
        out = self.heads(data, x, z)
        return dataclasses.replace(out, kl=kl)
