"""The twin as a sampler: scene inputs → graphs → ensembles of KPI samples.

The backbone runs once per batch of scenes; each of the ``n_samples`` members then draws its
own scene latent z (v0.5) and its own per-node uniforms for the quantile heads, and event
draws (activity Bernoulli, handover Poisson). Physics structure is imposed on the way out:
RSRP and SINR are Φ plus a sampled residual, sleeping cells carry no traffic, cell energy
comes from the EARTH model of :mod:`rantwin.radio.energy` at the sampled PRB utilisation.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Batch, HeteroData

from rantwin.radio.energy import cell_power_w

from .checkpoint import load_checkpoint
from .data import TARGET_SCALE
from .features import ScenarioStatics, SceneBatch, SceneInputs
from .graph import GraphConfig, build_batch, build_graph
from .model import TwinModel
from .quantiles import sample as sample_quantiles


@dataclass(frozen=True)
class TwinSample:
    """Sampled KPIs of a batch of scenes; nodes of all scenes concatenated in batch order."""

    ue_rsrp_dbm: torch.Tensor  # [n_samples, n_ues]
    ue_sinr_db: torch.Tensor  # [n_samples, n_ues]
    ue_throughput_mbps: torch.Tensor  # [n_samples, n_ues]
    ue_active: torch.Tensor  # [n_samples, n_ues] bool
    ue_handovers: torch.Tensor  # [n_samples, n_ues] float (counts)
    ue_serving: torch.Tensor  # [n_ues] long, Φ serving cell (index within its scene)
    ue_scene: torch.Tensor  # [n_ues] long, scene of each UE
    cell_prb_util: torch.Tensor  # [n_samples, n_cells]
    cell_throughput_mbps: torch.Tensor  # [n_samples, n_cells]
    cell_energy_w: torch.Tensor  # [n_samples, n_cells]
    cell_handovers_out: torch.Tensor  # [n_samples, n_cells] float (counts)
    cell_scene: torch.Tensor  # [n_cells] long


class Twin:
    """A trained twin ready to sample.

    Args:
        model: The network (eval mode).
        graph_cfg: How graphs are built (from the checkpoint).
        meta: Checkpoint metadata (training ranges, metrics, ...).
    """

    def __init__(self, model: TwinModel, graph_cfg: GraphConfig, meta: dict[str, Any]):
        self.model = model.eval()
        self.graph_cfg = graph_cfg
        self.meta = meta
        self._warned: set[str] = set()
        self._statics: dict[int, tuple[object, ScenarioStatics]] = {}

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Twin:
        """Load from a checkpoint directory (safetensors + JSON; never unpickles)."""
        return cls(*load_checkpoint(path))

    def graph(self, inp: SceneInputs) -> HeteroData:
        """Build the graph of one scene, warning once per feature when outside training range."""
        g = build_graph(inp, self.graph_cfg)
        self._check_range(g)
        return g

    def graphs(self, scenes: SceneBatch) -> HeteroData:
        """Build one batched graph of ``B`` scenes of a scenario (the fast path of the envs)."""
        key = id(scenes.scenario)
        if key not in self._statics:
            self._statics = {key: (scenes.scenario, ScenarioStatics(scenes.scenario))}
        g = build_batch(self._statics[key][1], scenes, self.graph_cfg)
        self._check_range(g)
        return g

    def _check_range(self, g: HeteroData) -> None:
        ranges = self.meta.get("feature_ranges")
        if not ranges:
            return
        from .graph import CELL_FEATURES, UE_FEATURES

        for nt, names in (("cell", CELL_FEATURES), ("ue", UE_FEATURES)):
            x = g[nt].x
            lo = torch.tensor(ranges[nt]["min"])
            hi = torch.tensor(ranges[nt]["max"])
            span = (hi - lo).clamp_min(1e-6)
            out = ((x < lo - 0.05 * span) | (x > hi + 0.05 * span)).any(0)
            for j in torch.nonzero(out).flatten().tolist():
                key = f"{nt}.{names[j]}"
                if key not in self._warned:
                    self._warned.add(key)
                    warnings.warn(
                        f"twin is extrapolating: feature {key} outside its training range "
                        f"[{float(lo[j]):.3g}, {float(hi[j]):.3g}]",
                        stacklevel=3,
                    )

    @torch.no_grad()
    def sample(
        self,
        graphs: HeteroData | list[HeteroData],  # list, one graph, or build_batch output
        n_samples: int,
        generator: torch.Generator | None = None,
    ) -> TwinSample:
        """Draw ``n_samples`` joint samples of every scene's KPIs.

        Args:
            graphs: One graph or a list (from :meth:`graph`).
            n_samples: Ensemble size (≥ 1).
            generator: Source of all randomness (pass one for reproducible draws).
        """
        if n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}")
        if isinstance(graphs, list):
            batch = Batch.from_data_list(graphs)
        elif getattr(graphs, "num_scenes", None) is not None:
            batch = graphs  # already batched by build_batch
        else:
            batch = Batch.from_data_list([graphs])
        m = self.model
        x = m.embed(batch)
        ue_b = m._batch(batch, "ue")
        cell_b = m._batch(batch, "cell")
        outs = []
        if m.cfg.latent_dim:
            mu, log_s = m.prior_params(batch, x)
        for _ in range(n_samples):
            z = None
            if m.cfg.latent_dim:
                eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
                z = mu + eps * log_s.exp()
            outs.append(m.heads(batch, x, z))
        s = TARGET_SCALE
        ue_q = torch.stack([o.ue_q for o in outs])  # [S, n_ues, 3, L]
        cell_q = torch.stack([o.cell_q for o in outs])  # [S, n_cells, 2, L]
        u_draw = sample_quantiles(ue_q, 1, generator)[0]  # [S, n_ues, 3]
        c_draw = sample_quantiles(cell_q, 1, generator)[0]  # [S, n_cells, 2]
        p_active = torch.sigmoid(torch.stack([o.ue_active_logit for o in outs]))
        active = torch.rand(p_active.shape, generator=generator) < p_active
        ue_rate = torch.stack([o.ue_ho_log_rate for o in outs]).exp()
        cell_rate = torch.stack([o.cell_ho_log_rate for o in outs]).exp()
        ue_ho = torch.poisson(ue_rate, generator=generator)
        cell_ho = torch.poisson(cell_rate, generator=generator)
        ue = batch["ue"]
        cell = batch["cell"]
        # bounded draws: log1p(thr) <= 7 (1.1 Gbit/s per UE), <= 9 per cell (8 Gbit/s)
        thr = torch.expm1((u_draw[..., 2] * s["ue_log_thr"]).clamp(0, 7)) * active
        awake = cell.awake  # [n_cells]
        prb = c_draw[..., 0].clamp(0, 1) * awake
        cell_thr = torch.expm1((c_draw[..., 1] * s["cell_log_thr"]).clamp(0, 9)) * awake
        tx = cell.x[:, 0] * 10 + 40  # CELL_FEATURES[0] = (P_tx − 40) / 10
        small = cell.x[:, 8] > 0.5
        energy = cell_power_w(prb, tx.expand_as(prb), awake.expand_as(prb), small)
        return TwinSample(
            ue_rsrp_dbm=ue.phi_rsrp_dbm + s["rsrp_db"] * u_draw[..., 0],
            ue_sinr_db=ue.phi_sinr_db + s["sinr_db"] * u_draw[..., 1],
            ue_throughput_mbps=thr,
            ue_active=active,
            ue_handovers=ue_ho,
            ue_serving=ue.phi_serving,
            ue_scene=ue_b,
            cell_prb_util=prb,
            cell_throughput_mbps=cell_thr,
            cell_energy_w=energy,
            cell_handovers_out=cell_ho,
            cell_scene=cell_b,
        )


def time_sampling(twin: Twin, graphs: list[HeteroData], n_samples: int, repeats: int = 3) -> float:
    """Median seconds of one :meth:`Twin.sample` call (for benchmarks)."""
    g = torch.Generator().manual_seed(0)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        twin.sample(graphs, n_samples, g)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))
