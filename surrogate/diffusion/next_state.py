"""Next-state conditioning of the diffusion head: each super-step's draw sees the previous one.

GenCast (Price et al. 2024, §2) samples the next weather state conditioned on the previous
states; here the denoiser of super-step k is conditioned, per UE, on the UE KPIs of step
k − 1 (RSRP − Φ, SINR − Φ, log1p throughput in the units of :mod:`..data`, standardised by the
head's ``ue_shift`` / ``ue_scale``), on whether that step exists, and on how far the UE
moved since, relative to the shadowing decorrelation distance (the motion features of
:mod:`..slow`):

    ``[prev_std (3), present (1), exp(−Δd/d_corr), log1p(Δd/d_corr)]``  — 6 columns.

A UE's previous throughput counts as 0 when it was inactive then (the simulator's 0, and what
the head's masked draw would be), so training (the simulator's step k − 1, teacher forcing)
and sampling (the head's own draw of step k − 1) see the same thing. At an episode's first
step the previous values are absent (NaN in, zeros and ``present = 0`` out): the same model
draws first steps and next steps, as the slow state of the quantile twin does.

Why UEs only: the persistence the simulator has from one super-step to the next is in the
UEs (shadowing that moves with the UE, O2I losses, the local interference situation; lag-1
correlation of the normal scores of the RSRP residual 0.42 on the held-out family, 0.78 on
``hex7-uma``, ``docs/twin.md``); a cell's load follows from its UEs, which the denoiser's
message passing already reads.
"""

from __future__ import annotations

import torch
from torch_geometric.data import HeteroData

from ..slow import motion_features

#: Columns the next-state condition adds to every UE (module docstring).
PREV_DIMS = 6


def previous_columns(
    prev_y: torch.Tensor,  # [..., n_ues, 3] NaN where there is no previous step
    moved_m: torch.Tensor,  # [n_ues]
    d_corr_m: torch.Tensor,  # [n_ues]
    shift: torch.Tensor,  # [3]
    scale: torch.Tensor,  # [3]
) -> torch.Tensor:
    """The next-state condition columns of every UE (module docstring).

    Input:
        prev_y: The previous step's normalised UE KPIs (throughput already 0 for the UEs
            inactive then); NaN rows where a UE has no previous step.
        moved_m: Distance each UE moved since, metres (0 where absent).
        d_corr_m: Shadowing decorrelation distance of each UE's scenario, metres.
        shift, scale: The head's UE standardisation.

    Output:
        ``[..., n_ues, 6]`` float32.
    """
    if prev_y.shape[-1] != 3 or prev_y.shape[-2] != moved_m.shape[0]:
        raise ValueError(
            f"prev_y must be [..., n_ues={moved_m.shape[0]}, 3], got {tuple(prev_y.shape)}"
        )
    present = torch.isfinite(prev_y).all(-1, keepdim=True)  # [..., n, 1]
    std = torch.where(present, (prev_y.nan_to_num(0.0) - shift) / scale, 0.0)  # [..., n, 3]
    motion = motion_features(moved_m, d_corr_m) * present  # [..., n, 2]
    return torch.cat([std, present.to(std.dtype), motion], -1).float()


def mask_inactive_throughput(ue_y: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    """UE KPIs with the throughput of inactive UEs set to 0 (what the next step sees).

    **Input:** ``ue_y [..., n_ues, 3]``, ``active [..., n_ues]`` bool. **Output:** like ``ue_y``.
    """
    thr = ue_y[..., 2] * active.to(ue_y.dtype)
    return torch.cat([ue_y[..., :2], thr[..., None]], -1)


def attach_previous(graphs: list[HeteroData]) -> int:
    """Cache the simulator's previous super-step on every training graph (in place).

    Graphs need ``scene = (dataset, world, episode, step)``, ``ue.xy_m`` and ``d_corr_m`` (as
    :func:`..data.load_graphs` writes them). Adds ``g["ue"].prev_y [n_ues, 3]`` (NaN when the
    scene has no step k − 1 with the same UEs), ``g["ue"].moved_m [n_ues]`` and
    ``g["ue"].d_corr_m [n_ues]``.

    **Output:** the number of graphs that got a previous step.
    """
    by_key = {tuple(g.scene.tolist()): g for g in graphs}
    found = 0
    for key, g in by_key.items():
        ue = g["ue"]
        n = int(ue.num_nodes)
        g0 = by_key.get((*key[:3], key[3] - 1))
        if g0 is not None and int(g0["ue"].num_nodes) == n:
            u0 = g0["ue"]
            ue.prev_y = mask_inactive_throughput(u0.y, u0.active.bool()).float()  # [n, 3]
            ue.moved_m = (ue.xy_m - u0.xy_m).norm(dim=-1).float()  # [n]
            found += 1
        else:
            ue.prev_y = torch.full((n, 3), float("nan"))
            ue.moved_m = torch.zeros(n)
        ue.d_corr_m = torch.full((n,), float(g.d_corr_m))
    return found
