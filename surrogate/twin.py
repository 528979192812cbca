"""The twin as a sampler: scene inputs → graphs → ensembles of KPI samples.

The backbone runs once per batch of scenes; each of the ``n_samples`` members then draws its
own scene latent z (v0.5) and its own per-node uniforms for the quantile heads, and event
draws (activity Bernoulli, handover Poisson). Physics structure is imposed on the way out:
RSRP and SINR are Φ plus a sampled residual, sleeping cells carry no traffic, a loaded cell's
PRB utilisation is exactly 1 with the mixed head's probability (``TwinConfig.prb_full``), and
cell energy comes from the EARTH model of :mod:`rantwin.radio.energy` at the sampled PRB
utilisation.
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch_geometric.data import Batch, HeteroData

from rantwin.allocator import tune_allocator

from .checkpoint import load_checkpoint
from .compiled import twin_paths
from .features import ScenarioStatics, SceneBatch, SceneInputs
from .graph import GraphConfig, build_batch, build_graph
from .model import TwinModel
from .slow import SlowState, advance, motion_features
from .ssm import sample_tti

#: where the random numbers are drawn: the callers' generators are CPU generators
_HOST = torch.device("cpu")
#: How a draw's UE throughputs relate to their cell's (``Twin(ue_throughput=)``, :mod:`.kpis`).
UE_THROUGHPUT = ("independent", "cell-share")

if TYPE_CHECKING:  # the diffusion package imports this module: no import cycle at run time
    from .diffusion.head import DiffusionHead
    from .diffusion.sampler import SamplerConfig


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
    cell_n_active: torch.Tensor  # [n_samples, n_cells] float: active Φ-served UEs
    cell_scene: torch.Tensor  # [n_cells] long
    ue_tti_sinr_db: torch.Tensor | None = None  # [n_samples, n_ttis, n_ues] (n_ttis > 0)
    ue_tti_throughput_mbps: torch.Tensor | None = None  # [n_samples, n_ttis, n_ues]
    # [n_samples, n_ues, 3] what the next super-step conditions on: the slow state s_k (.slow),
    # or a next-state diffusion head's UE draw (.diffusion.next_state)
    ue_slow_score: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> TwinSample:
        """The same sample with every tensor on ``device`` (itself if already there)."""
        device = torch.device(device)
        if self.ue_scene.device == device:
            return self
        moved: dict[str, Any] = {
            f.name: None if (v := getattr(self, f.name)) is None else v.to(device)
            for f in dataclasses.fields(self)
        }
        return TwinSample(**moved)

    @staticmethod
    def cat(parts: Sequence[TwinSample]) -> TwinSample:
        """One sample of all scenes of ``parts`` (samples of consecutive scene batches).

        Node tensors are joined along their node axis and the scene ids of each part are
        offset by the scenes before it, so the result is laid out as one call on all the
        scenes would have laid it out.
        """
        if not parts:
            raise ValueError("parts: need at least one TwinSample")
        if len(parts) == 1:
            return parts[0]
        offsets, n = [], 0
        for p in parts:
            offsets.append(n)
            n += int(max(int(p.ue_scene.max()), int(p.cell_scene.max()))) + 1
        out: dict[str, torch.Tensor | None] = {}
        for f in dataclasses.fields(TwinSample):
            xs = [getattr(p, f.name) for p in parts]
            if xs[0] is None:
                out[f.name] = None
                continue
            if f.name in ("ue_scene", "cell_scene"):
                out[f.name] = torch.cat([x + o for x, o in zip(xs, offsets, strict=True)])
            elif f.name == "ue_serving":  # [n_ues]: index within the scene, no offset
                out[f.name] = torch.cat(xs)
            else:  # [S, n_nodes, ...] or [S, n_ttis, n_ues]: the node axis is 1 or 2
                out[f.name] = torch.cat(xs, 2 if f.name.startswith("ue_tti_") else 1)
        return TwinSample(**out)  # type: ignore[arg-type]


class Twin:
    """A trained twin ready to sample.

    Creating one tunes the process's allocator once (:func:`rantwin.allocator.tune_allocator`;
    ``RANTWIN_MALLOC=system`` opts out): batched steps are several times faster with it.

    With a diffusion head (issue #7, :mod:`.diffusion`) the continuous KPIs of every draw come
    from the head (a joint sample over the scene's graph) instead of the quantile heads; the
    events (activity, handovers), Φ's structure and the per-TTI detail stay the twin's.

    Args:
        model: The network (eval mode).
        graph_cfg: How graphs are built (from the checkpoint).
        meta: Checkpoint metadata (training ranges, metrics, ...).
        head: Optional diffusion head trained on this twin (``None``: quantile heads).
        sampler: The head's sampler (``None``: its default, DPM-Solver++(2M) with 8 steps).
        compile: ``torch.compile`` Φ, the graph's features, the network and the KPIs
            (:mod:`.compiled`: faster steps after a one-off compilation; needs a C++
            compiler; draws differ from an eager twin's in the last bits).
        device: Where the network, Φ and the graphs run (``"cpu"``, ``"cuda"``,
            ``"cuda:1"``, ...; default CPU). The random numbers are drawn on the CPU from the
            caller's generators whatever the device, so a seed gives the same latent and
            uniforms everywhere and the draws differ between devices only by the network's
            float rounding. :class:`TwinSample` tensors are on ``device``.
        ue_throughput: How a draw's UE throughputs relate to their cell's (one of
            :data:`UE_THROUGHPUT`): ``"independent"`` (default) keeps the UE heads' draws
            as they are; ``"cell-share"`` shares each cell's drawn throughput out among its
            UEs in proportion to their own draws, so that they add up to it as in the
            simulator (:mod:`.kpis`). It draws no random numbers: both give the same draws
            of everything else.

    Raises:
        ValueError: A device torch does not know, or one this machine does not have.
    """

    def __init__(
        self,
        model: TwinModel,
        graph_cfg: GraphConfig,
        meta: dict[str, Any],
        head: DiffusionHead | None = None,
        sampler: SamplerConfig | None = None,
        compile: bool = False,
        device: torch.device | str | None = None,
        ue_throughput: str = "independent",
    ):
        if ue_throughput not in UE_THROUGHPUT:
            raise ValueError(
                f"ue_throughput must be one of {', '.join(UE_THROUGHPUT)}, got {ue_throughput!r}"
            )
        self.ue_throughput = ue_throughput
        tune_allocator()  # batched steps free and reallocate large tensors: rantwin.allocator
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.graph_cfg = graph_cfg
        self.meta = meta
        self._warned: set[str] = set()
        # per (node type, device): the training ranges of the features, and their tolerances
        self._bounds: dict[tuple[str, torch.device], tuple[torch.Tensor, ...]] = {}
        self.head = head
        if head is not None and sampler is None:
            from .diffusion.sampler import DEFAULT_SAMPLER

            sampler = DEFAULT_SAMPLER
        if head is not None:
            head.to(self.device)
        self.sampler = sampler
        self._statics: dict[int, tuple[object, ScenarioStatics]] = {}
        self.paths = twin_paths(self.model, compile)  # eager or compiled (.compiled)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        head: str | os.PathLike[str] | None = None,
        sampler: SamplerConfig | None = None,
        compile: bool = False,
        device: torch.device | str | None = None,
        ue_throughput: str = "independent",
    ) -> Twin:
        """Load from a checkpoint directory (safetensors + JSON; never unpickles).

        Args:
            path: The twin's checkpoint directory.
            head: A diffusion-head checkpoint directory (``rantwin train-surrogate --head
                diffusion``); refused if it was trained on another twin.
            sampler: The head's sampler (default: its few-step default).
            compile: ``torch.compile`` the hot paths (see the class).
            device: Where it runs (see the class).
            ue_throughput: UE throughput as a share of the cell's, or independent (see the
                class).
        """
        model, graph_cfg, meta = load_checkpoint(path)
        dh = None
        if head is not None:
            from .diffusion.checkpoint import load_diffusion

            dh, _ = load_diffusion(head, model)
        return cls(
            model, graph_cfg, meta, head=dh, sampler=sampler, compile=compile, device=device,
            ue_throughput=ue_throughput,
        )  # fmt: skip

    @property
    def carries_state(self) -> bool:
        """Whether a super-step's draw depends on the previous one's (pass ``slow=``).

        True for a twin with a slow head (``cfg.slow``) or a ``next_state`` diffusion head.
        """
        if self.head is not None and self.sampler is not None:
            return bool(self.head.cfg.next_state)
        return bool(self.model.cfg.slow)

    def with_head(self, head: DiffusionHead | None, sampler: SamplerConfig | None = None) -> Twin:
        """The same twin (shared network and paths) drawing its continuous KPIs from ``head``."""
        twin = Twin(
            self.model, self.graph_cfg, self.meta, head=head, sampler=sampler,
            device=self.device, ue_throughput=self.ue_throughput,
        )  # fmt: skip
        twin.paths = self.paths  # compiled once, shared
        return twin

    def graph(self, inp: SceneInputs) -> HeteroData:
        """Build the graph of one scene, warning once per feature when outside training range.

        Built on the CPU (a plain single-scene graph, as data loaders batch them);
        :meth:`sample` moves it to the twin's device.
        """
        g = build_graph(inp, self.graph_cfg)
        self._check_range(g)
        return g

    def graphs(self, scenes: SceneBatch) -> HeteroData:
        """Build one batched graph of ``B`` scenes of a scenario (the fast path of the envs).

        Built on the twin's device (``scenes`` may be anywhere).
        """
        key = id(scenes.scenario)
        if key not in self._statics:
            st = ScenarioStatics(scenes.scenario, self.device)
            self._statics = {key: (scenes.scenario, st)}
        g = build_batch(
            self._statics[key][1], scenes, self.graph_cfg,
            links=self.paths.phi, tensors=self.paths.graph,
        )  # fmt: skip
        self._check_range(g)
        return g

    def _check_range(self, g: HeteroData) -> None:
        ranges = self.meta.get("feature_ranges")
        if not ranges:
            return
        from .graph import CELL_FEATURES, UE_FEATURES

        for nt, names in (("cell", CELL_FEATURES), ("ue", UE_FEATURES)):
            x = g[nt].x
            where = (nt, x.device)
            if where not in self._bounds:  # the training range, 5 % of its span either side
                lo = torch.tensor(ranges[nt]["min"], device=x.device)
                hi = torch.tensor(ranges[nt]["max"], device=x.device)
                span = (hi - lo).clamp_min(1e-6)
                self._bounds[where] = (lo, hi, lo - 0.05 * span, hi + 0.05 * span)
            lo, hi, below, above = self._bounds[where]  # [F] each
            out = ((x < below) | (x > above)).any(0)
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
        generator: torch.Generator | Sequence[torch.Generator] | None = None,
        n_ttis: int = 0,
        slow: SlowState | None = None,
    ) -> TwinSample:
        """Draw ``n_samples`` joint samples of every scene's KPIs.

        Args:
            graphs: One graph or a list (from :meth:`graph`), or a batched graph (from
                :meth:`graphs`).
            n_samples: Ensemble size (≥ 1).
            generator: Source of all randomness (pass one for reproducible draws), or one
                generator per scene: then scene ``b``'s draws (latent, quantile uniforms,
                events) come from ``generator[b]`` only, in a fixed order, so they do not
                depend on which other scenes share the batch (what batched envs need).
            n_ttis: If > 0, also draw per-TTI SINR and throughput of every UE over that many
                TTIs from the fast-timescale recurrence (:mod:`.ssm`), drawn after all
                other draws.
            slow: The slow state of the previous super-step of the same scenes and members
                (``TwinSample.ue_slow_score`` of that step, the distance every UE moved and
                its decorrelation distance), for twins with a slow head (``cfg.slow``):
                then the UE draws persist in time (:mod:`.slow`); with a ``next_state``
                diffusion head, its score is the head's previous UE draw instead
                (:mod:`.diffusion.next_state`). ``None`` at an episode's first step, or to
                draw every step afresh. It consumes no random numbers.

        The generators are CPU generators whatever the twin's device: every random number
        is drawn on the CPU and then moved (see the class).
        """
        if n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}")
        batch: Any  # a HeteroData batch (build_batch's, or PyG's collation)
        if getattr(graphs, "num_scenes", None) is not None:
            batch = graphs  # already batched by build_batch
        else:  # single-scene graphs of graph() / data loaders: CPU graphs, collated there
            with torch.device(_HOST):
                batch = Batch.from_data_list(graphs if isinstance(graphs, list) else [graphs])
        dev = self.device
        if batch["ue"].x.device != dev:
            batch = batch.to(dev)
        if slow is not None and slow.score.device != dev:
            slow = SlowState(slow.score.to(dev), slow.moved_m.to(dev), slow.d_corr_m.to(dev))
        m = self.model
        ue_b = m._batch(batch, "ue")
        cell_b = m._batch(batch, "cell")
        n_scenes = int(getattr(batch, "num_scenes", None) or batch.num_graphs)
        gens = None if generator is None or isinstance(generator, torch.Generator) else generator
        if gens is not None:
            if len(gens) != n_scenes:
                raise ValueError(f"got {len(gens)} generators for {n_scenes} scenes")
            # nodes are concatenated scene by scene: contiguous slices per scene
            ue_n = torch.bincount(ue_b, minlength=n_scenes).tolist()  # [B]
            cell_n = torch.bincount(cell_b, minlength=n_scenes).tolist()  # [B]
        one = generator if isinstance(generator, torch.Generator) else None
        n_z = m.cfg.latent_dim
        if not n_z:
            eps = torch.zeros(n_samples, n_scenes, 0)  # [S, B, 0]: every draw the same heads
        elif gens is None:
            eps = torch.stack(
                [
                    torch.randn((n_scenes, n_z), generator=one, device=_HOST)
                    for _ in range(n_samples)
                ]
            )  # [S, B, Z]
        else:
            eps = torch.stack(
                [torch.randn((n_samples, n_z), generator=g, device=_HOST) for g in gens], 1
            )  # [S, B, Z]
        d = self.paths.draws(batch, eps.to(dev), n_scenes)
        x = d.x
        ue_q = d.ue_q  # [S, n_ues, 3, L]
        cell_q = d.cell_q  # [S, n_cells, 2, L]
        p_active = torch.sigmoid(d.ue_active_logit)  # [S, n_ues]
        ue_rate = d.ue_ho_log_rate.exp()  # [S, n_ues]
        cell_rate = d.cell_ho_log_rate.exp()  # [S, n_cells]
        # [S, n_cells] P(PRB = 1 | loaded) of the mixed PRB head (.model)
        p_full = None if d.cell_full_logit is None else torch.sigmoid(d.cell_full_logit)
        if gens is None:
            # clamped as quantiles.sample clamps them
            u_ue = torch.rand(ue_q.shape[:-1], generator=one, dtype=ue_q.dtype, device=_HOST)
            u_ue = u_ue.clamp(1e-6, 1 - 1e-6).to(dev)  # [S, n_ues, 3]
            u_cell = torch.rand(cell_q.shape[:-1], generator=one, dtype=cell_q.dtype, device=_HOST)
            u_cell = u_cell.clamp(1e-6, 1 - 1e-6).to(dev)  # [S, n_cells, 2]
            active = torch.rand(p_active.shape, generator=one, device=_HOST).to(dev) < p_active
            ue_ho = torch.poisson(ue_rate.cpu(), generator=one).to(dev)
            cell_ho = torch.poisson(cell_rate.cpu(), generator=one).to(dev)
            full = None
            if p_full is not None:
                full = torch.rand(p_full.shape, generator=one, device=_HOST).to(dev) < p_full
        else:
            u_ue, u_cell, active, ue_ho, cell_ho, full = _per_scene_draws(
                gens, ue_n, cell_n, ue_q, cell_q, p_active, ue_rate, cell_rate, p_full
            )
        # slow timescale: the UE levels follow the state recurrence of .slow
        rho = None
        head_state = self.head is not None and self.sampler is not None and self.head.cfg.next_state
        if slow is not None and m.cfg.slow and not head_state:
            rho = m.slow_head(x["ue"], motion_features(slow.moved_m, slow.d_corr_m))  # [n, 3]
        u_ue, score = advance(u_ue, slow if rho is not None else None, rho)
        slow_score: torch.Tensor | None = score  # [S, n_ues, 3]
        if self.head is None or self.sampler is None:  # the quantile heads at the levels
            u_draw = self.paths.quantile(ue_q, u_ue)  # [S, n_ues, 3]
            c_draw = self.paths.quantile(cell_q, u_cell)  # [S, n_cells, 2]
        else:  # joint draws from the head
            u_draw, c_draw = self.head.sample(
                m,
                batch,
                n_samples,
                generator,
                self.sampler,
                active=active,
                embeddings=x,
                slow=slow if head_state else None,
            )
            # a next-state head carries its own draw; others draw every super-step afresh
            slow_score = self.head.state_after(u_draw, active)
            if not self.head.cfg.prb_atom:  # it paints the whole PRB distribution itself
                full = None
        ue = batch["ue"]
        cell = batch["cell"]
        ue_cell = _cell_offsets(cell_b)[ue_b] + ue.phi_serving  # [n_ues] global cell index
        k = self.paths.kpis(
            u_draw, c_draw, active, full, ue.phi_rsrp_dbm, ue.phi_sinr_db, ue_cell,
            cell.awake, cell.x, self.ue_throughput == "cell-share",
        )  # fmt: skip
        sinr, thr = k.ue_sinr_db, k.ue_throughput_mbps  # [S, n_ues]
        tti_sinr = tti_thr = None
        if n_ttis > 0:
            tti_eps: torch.Tensor | None = None
            if gens is not None:
                tti_eps = torch.cat(
                    [
                        torch.randn((n_ttis, n_samples, nu), generator=g, device=_HOST)
                        for g, nu in zip(gens, ue_n, strict=True)
                    ],
                    -1,
                ).to(dev)  # [T, S, n_ues]
            tti_sinr, tti_thr = sample_tti(
                sinr, thr, d.tti_log_sigma, d.tti_log_delta, n_ttis, one, tti_eps
            )
        return TwinSample(
            ue_rsrp_dbm=k.ue_rsrp_dbm,
            ue_sinr_db=sinr,
            ue_throughput_mbps=thr,
            ue_active=active,
            ue_handovers=ue_ho,
            ue_serving=ue.phi_serving,
            ue_scene=ue_b,
            cell_prb_util=k.cell_prb_util,
            cell_throughput_mbps=k.cell_throughput_mbps,
            cell_energy_w=k.cell_energy_w,
            cell_handovers_out=cell_ho,
            cell_n_active=k.cell_n_active,
            cell_scene=cell_b,
            ue_tti_sinr_db=tti_sinr,
            ue_tti_throughput_mbps=tti_thr,
            ue_slow_score=slow_score,
        )


def resolve_device(device: torch.device | str | None) -> torch.device:
    """``device`` as a ``torch.device`` (``None``: CPU), checked against this machine.

    Raises:
        ValueError: A name torch does not parse, or a CUDA / MPS device this machine lacks.
    """
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device ('cpu', 'cuda', 'cuda:1', …): {exc}"
        ) from None
    if dev.type == "cuda":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n == 0:
            raise ValueError(f"device={device!r}: this machine has no CUDA device (use 'cpu')")
        if dev.index is not None and dev.index >= n:
            raise ValueError(f"device={device!r}: this machine has {n} CUDA device(s), 0 … {n - 1}")
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r}: MPS is not available on this machine (use 'cpu')")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device={device!r}: the twin runs on 'cpu', 'cuda' or 'mps'")
    return dev


def _cell_offsets(cell_b: torch.Tensor) -> torch.Tensor:
    """Index of each scene's first cell. **Input:** ``cell_b [n_cells]`` (sorted scene ids).

    **Output:** ``[n_scenes]`` long.
    """
    counts = torch.bincount(cell_b)  # [n_scenes]
    return torch.cumsum(counts, 0) - counts


def _per_scene_draws(
    gens: Sequence[torch.Generator],
    ue_n: list[int],
    cell_n: list[int],
    ue_q: torch.Tensor,  # [S, n_ues, 3, L]
    cell_q: torch.Tensor,  # [S, n_cells, 2, L]
    p_active: torch.Tensor,  # [S, n_ues]
    ue_rate: torch.Tensor,  # [S, n_ues]
    cell_rate: torch.Tensor,  # [S, n_cells]
    p_full: torch.Tensor | None = None,  # [S, n_cells] P(PRB = 1) of the mixed PRB head
) -> tuple[Any, ...]:
    """The random draws of :meth:`Twin.sample`, scene ``b`` from ``gens[b]`` only.

    Per scene, in this order: UE quantile uniforms ``[S, n_b, 3]``, cell quantile uniforms
    ``[S, c_b, 2]``, activity uniforms ``[S, n_b]``, UE then cell handover Poisson draws,
    and (``p_full`` given) the uniforms of the PRB atom ``[S, c_b]``.

    **Output:** the quantile levels ``u_ue [S, n_ues, 3]`` (for the slow recurrence) and
    ``u_cell [S, n_cells, 2]``, ``active [S, n_ues]`` bool, ``ue_ho [S, n_ues]``,
    ``cell_ho [S, n_cells]``, ``full [S, n_cells]`` bool (``None`` without ``p_full``), on
    the device of ``ue_q`` (the numbers are drawn on the CPU, where the generators are).
    """
    n_s = ue_q.shape[0]
    dev = ue_q.device
    ue_rate, cell_rate = ue_rate.cpu(), cell_rate.cpu()
    u_ue, u_cell, u_act, ue_ho, cell_ho, u_full = [], [], [], [], [], []
    u0 = c0 = 0
    for g, nu, nc in zip(gens, ue_n, cell_n, strict=True):
        dt = ue_q.dtype
        u_ue.append(torch.rand((n_s, nu, ue_q.shape[2]), generator=g, dtype=dt, device=_HOST))
        u_cell.append(torch.rand((n_s, nc, cell_q.shape[2]), generator=g, dtype=dt, device=_HOST))
        u_act.append(torch.rand((n_s, nu), generator=g, device=_HOST))
        ue_ho.append(torch.poisson(ue_rate[:, u0 : u0 + nu], generator=g))
        cell_ho.append(torch.poisson(cell_rate[:, c0 : c0 + nc], generator=g))
        if p_full is not None:
            u_full.append(torch.rand((n_s, nc), generator=g, device=_HOST))
        u0, c0 = u0 + nu, c0 + nc
    lo, hi = 1e-6, 1 - 1e-6  # as quantiles.sample
    u_levels = torch.cat(u_ue, 1).clamp(lo, hi).to(dev)  # [S, n_ues, 3]
    c_levels = torch.cat(u_cell, 1).clamp(lo, hi).to(dev)  # [S, n_cells, 2]
    active = torch.cat(u_act, 1).to(dev) < p_active  # [S, n_ues]
    full = None if p_full is None else torch.cat(u_full, 1).to(dev) < p_full  # [S, n_cells]
    return (
        u_levels, c_levels, active, torch.cat(ue_ho, 1).to(dev), torch.cat(cell_ho, 1).to(dev), full
    )  # fmt: skip


def time_sampling(twin: Twin, graphs: list[HeteroData], n_samples: int, repeats: int = 3) -> float:
    """Median seconds of one :meth:`Twin.sample` call (for benchmarks)."""
    g = torch.Generator().manual_seed(0)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        twin.sample(graphs, n_samples, g)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))
