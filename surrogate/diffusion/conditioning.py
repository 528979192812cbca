"""What the denoiser is conditioned on, computed once per batch from the frozen twin.

Per node, the condition vector is the concatenation of

- the twin backbone's node embedding (``TwinModel.embed``, ``H`` dims) — it already carries the
  config/action ``c`` (power offset, tilt, CIO, sleep and their change since the previous
  super-step are cell features the backbone reads) and the Φ links;
- the quantile head's p10 / p50 / p90 of each KPI at the prior mean of the scene latent (UE
  ``3 × 3``, cell ``2 × 3``), the twin's own marginal forecast;
- the raw node features (:data:`~rantwin.surrogate.graph.UE_FEATURES` /
  :data:`~rantwin.surrogate.graph.CELL_FEATURES`), so the config knobs also enter directly.

The p50 is also the *baseline* that the innovation target is relative to
(:class:`~rantwin.surrogate.diffusion.denoiser.DenoiserConfig.target`).
Everything here runs under ``torch.no_grad``: the twin stays frozen.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..graph import CELL_FEATURES, EDGE_TYPES, UE_FEATURES, EdgeType
from ..model import TwinModel
from ..quantiles import LEVELS

#: Quantile levels of the twin's heads fed to the denoiser (p10, p50, p90).
COND_LEVELS = (0.1, 0.5, 0.9)
_LEVEL_IDX = [LEVELS.index(lv) for lv in COND_LEVELS]
_MEDIAN = 1  # position of p50 in COND_LEVELS


def cond_dims(twin_hidden: int) -> tuple[int, int]:
    """Sizes of the UE and cell condition vectors for a twin of width ``twin_hidden``."""
    n_lv = len(COND_LEVELS)
    return twin_hidden + 3 * n_lv + len(UE_FEATURES), twin_hidden + 2 * n_lv + len(CELL_FEATURES)


@dataclass(frozen=True)
class Conditioning:
    """Condition and graph of a batch of scenes (nodes of all scenes concatenated).

    Attributes:
        ue: ``[n_ues, C_ue]`` UE condition vectors (module docstring).
        cell: ``[n_cells, C_cell]`` cell condition vectors.
        ue_base: ``[n_ues, 3]`` the twin's median of each normalised UE KPI.
        cell_base: ``[n_cells, 2]`` the twin's median of each normalised cell KPI.
        ue_scene: ``[n_ues]`` long, scene of each UE.
        cell_scene: ``[n_cells]`` long, scene of each cell.
        edge_index: per edge type ``[2, E]`` long.
        edge_attr: per edge type ``[E, F_e]`` float.
        n_scenes: Number of scenes ``B``.
    """

    ue: torch.Tensor
    cell: torch.Tensor
    ue_base: torch.Tensor
    cell_base: torch.Tensor
    ue_scene: torch.Tensor
    cell_scene: torch.Tensor
    edge_index: dict[EdgeType, torch.Tensor]
    edge_attr: dict[EdgeType, torch.Tensor]
    n_scenes: int

    @property
    def n_ues(self) -> int:
        """Number of UE nodes."""
        return int(self.ue.shape[0])

    @property
    def n_cells(self) -> int:
        """Number of cell nodes."""
        return int(self.cell.shape[0])

    def scene_counts(self) -> tuple[list[int], list[int]]:
        """UEs and cells per scene (nodes are contiguous per scene). **Output:** two ``[B]``."""
        ue_n = torch.bincount(self.ue_scene, minlength=self.n_scenes).tolist()
        cell_n = torch.bincount(self.cell_scene, minlength=self.n_scenes).tolist()
        return ue_n, cell_n


@torch.no_grad()
def conditioning(
    twin: TwinModel, batch, embeddings: dict[str, torch.Tensor] | None = None
) -> Conditioning:
    """Condition vectors of every node of a (batched) graph from the frozen twin.

    Input:
        twin: The twin network (its weights are not touched).
        batch: A ``HeteroData`` of one or more scenes (``build_batch``/``Batch.from_data_list``).
        embeddings: ``twin.embed(batch)`` if already computed (``{"ue": [n_ues, H], "cell":
            [n_cells, H]}``), else computed here.

    Output:
        :class:`Conditioning` (UE ``[n_ues, C_ue]``, cell ``[n_cells, C_cell]``, bases).
    """
    x = embeddings if embeddings is not None else twin.embed(batch)
    z = None
    if twin.cfg.latent_dim:
        z, _ = twin.prior_params(batch, x)  # [B, Z] prior mean: one deterministic forecast
    out = twin.heads(batch, x, z)
    ue_q = out.ue_q[..., _LEVEL_IDX]  # [n_ues, 3, 3]
    cell_q = out.cell_q[..., _LEVEL_IDX]  # [n_cells, 2, 3]
    ue_scene = twin._batch(batch, "ue")  # [n_ues]
    cell_scene = twin._batch(batch, "cell")  # [n_cells]
    n_scenes = int(getattr(batch, "num_scenes", None) or getattr(batch, "num_graphs", 1) or 1)
    # the flattening [n, K, 3] -> [n, 3K] keeps KPI-major order (rsrp p10, p50, p90, sinr ...)
    return Conditioning(
        ue=torch.cat([x["ue"], ue_q.flatten(1), batch["ue"].x], -1),  # [n_ues, C_ue]
        cell=torch.cat([x["cell"], cell_q.flatten(1), batch["cell"].x], -1),  # [n_cells, C_cell]
        ue_base=ue_q[..., _MEDIAN].contiguous(),  # [n_ues, 3]
        cell_base=cell_q[..., _MEDIAN].contiguous(),  # [n_cells, 2]
        ue_scene=ue_scene,
        cell_scene=cell_scene,
        edge_index={et: batch[et].edge_index for et in EDGE_TYPES},
        edge_attr={et: batch[et].edge_attr for et in EDGE_TYPES},
        n_scenes=n_scenes,
    )


def replicate_edges(
    edge_index: dict[EdgeType, torch.Tensor],
    edge_attr: dict[EdgeType, torch.Tensor],
    n_nodes: dict[str, int],
    n_copies: int,
) -> tuple[dict[EdgeType, torch.Tensor], dict[EdgeType, torch.Tensor]]:
    """The edges of ``n_copies`` disjoint copies of a graph, copy-major.

    Node ``i`` of copy ``s`` is node ``s * n_nodes[type] + i`` (the layout of a ``[S, n, d]``
    tensor reshaped to ``[S * n, d]``).

    **Input:** ``edge_index[et]: [2, E]``, ``edge_attr[et]: [E, F]``.
    **Output:** ``edge_index[et]: [2, S * E]``, ``edge_attr[et]: [S * E, F]``.
    """
    if n_copies == 1:
        return edge_index, edge_attr
    ei_out, ea_out = {}, {}
    for et, ei in edge_index.items():
        src, _, dst = et
        step = torch.tensor([[n_nodes[src]], [n_nodes[dst]]], dtype=ei.dtype, device=ei.device)
        offs = torch.arange(n_copies, device=ei.device)  # [S]
        # [S, 2, E] -> [2, S * E]
        ei_out[et] = (ei[None] + offs[:, None, None] * step[None]).permute(1, 0, 2).reshape(2, -1)
        ea_out[et] = edge_attr[et].repeat(n_copies, 1)  # [S * E, F]
    return ei_out, ea_out
