r"""Train the diffusion head on top of a frozen twin (a training entry point).

    python -m rantwin.surrogate.diffusion.train --twin surrogate/default_twin \
        --data runs/d/uma-irregular --data runs/d/hetnet --val-data runs/d/val-umi-dense \
        --out runs/diffusion

Loss (Salimans & Ho 2022, v-prediction; continuous time, VDM): per scene ``t ~ U(0, 1)``
(low-discrepancy over the batch, VDM Appendix I.1), ``λ = λ(t)``, ``x_t = α x_0 + σ ε`` and

``L = E ‖v̂(x_t, λ, c) − (α ε − σ x_0)‖²``

averaged over the *valid* entries only: a UE's throughput when it is inactive (``y_mask``) and
both KPIs of a sleeping cell (they are 0 by construction, not a draw) are excluded; the UE and
the cell terms are averaged separately and summed. The condition is replaced by the null
embedding for a fraction ``cond_dropout`` of the scenes (classifier-free guidance).

The twin is frozen: its embeddings and quantiles are computed once per graph under
``no_grad`` and cached on the graphs. Early stopping on the held-out family's loss (a fixed
generator, so epochs compare); the best state is kept. :func:`train_diffusion` seeds the
process (weights) and nothing else in the package does.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import Batch, HeteroData
from torch_geometric.loader import DataLoader
from tqdm import tqdm

from ..data import load_graphs
from ..graph import EDGE_TYPES
from ..train import cell_target_mask
from ..training_log import CsvLog, EarlyStopping, check_optimisation_args
from ..twin import Twin
from .checkpoint import save_diffusion
from .conditioning import Conditioning, conditioning
from .denoiser import DenoiserConfig
from .head import DiffusionHead
from .next_state import attach_previous, previous_columns
from .schedule import CosineSchedule, alpha_sigma, v_target


@dataclass(frozen=True)
class TrainArgs:
    """Arguments of a diffusion-head training run (saved in the checkpoint's JSON).

    Attributes:
        twin: Twin checkpoint directory (frozen during training).
        data: Training dataset directories (``rantwin simulate`` outputs).
        val_data: Validation dataset directories — a held-out family, for early stopping.
        out: Output checkpoint directory (``diffusion.safetensors`` + ``diffusion.json``
            + ``metrics.csv``).
        hidden: Denoiser width.
        n_layers: Denoiser message-passing layers.
        heads: Attention heads per relation.
        target: ``"raw"`` (y; default, see :mod:`.denoiser`) or ``"innovation"`` (y − twin p50).
        cond_dropout: Condition dropout probability per scene (classifier-free guidance).
        use_activity: Condition UEs on their activity flag.
        next_state: Condition UEs on their previous super-step (teacher forcing on the
            simulator's step k − 1 in training; the head's own draw when sampling).
        epochs: Maximum epochs.
        batch_size: Scenes per batch.
        lr: AdamW learning rate (cosine-annealed to 0 over ``epochs``).
        weight_decay: AdamW weight decay.
        patience: Epochs without validation improvement before stopping.
        max_minutes: Wall-clock budget; stops (keeping the best state) when spent.
        seed: Seed of weights, shuffling, noise levels and noise.
    """

    twin: str = "surrogate/default_twin"
    data: tuple[str, ...] = ()
    val_data: tuple[str, ...] = ()
    out: str = "runs/diffusion"
    hidden: int = 64
    n_layers: int = 3
    heads: int = 2
    target: str = "raw"
    cond_dropout: float = 0.1
    use_activity: bool = True
    next_state: bool = False
    epochs: int = 60
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 1e-4
    patience: int = 8
    max_minutes: float = 20.0
    seed: int = 0

    def __post_init__(self) -> None:
        check_optimisation_args(self)
        object.__setattr__(self, "data", tuple(self.data))
        object.__setattr__(self, "val_data", tuple(self.val_data))


# ---------------------------------------------------------------------------- data
@torch.no_grad()
def attach_conditioning(twin: Twin, graphs: list[HeteroData], chunk: int = 64) -> None:
    """Cache the frozen twin's condition on every graph (in place).

    Adds ``g["ue"].cond [n_ues, C_ue]``, ``g["ue"].base [n_ues, 3]``, ``g["cell"].cond``,
    ``g["cell"].base [n_cells, 2]``.
    """
    for i in range(0, len(graphs), chunk):
        part = graphs[i : i + chunk]
        cond = conditioning(twin.model, Batch.from_data_list(part))
        n_ue = [int(g["ue"].num_nodes) for g in part]
        n_cell = [int(g["cell"].num_nodes) for g in part]
        for g, cu, bu, cc, bc in zip(
            part,
            cond.ue.split(n_ue),
            cond.ue_base.split(n_ue),
            cond.cell.split(n_cell),
            cond.cell_base.split(n_cell),
            strict=True,
        ):
            g["ue"].cond, g["ue"].base, g["cell"].cond, g["cell"].base = cu, bu, cc, bc


def cached_conditioning(batch: HeteroData) -> Conditioning:
    """A :class:`Conditioning` from a batch of graphs prepared by :func:`attach_conditioning`."""
    ue, cell = batch["ue"], batch["cell"]
    ue_b = getattr(ue, "batch", None)
    cell_b = getattr(cell, "batch", None)
    if ue_b is None or cell_b is None:  # a single graph, not a batch
        ue_b = torch.zeros(ue.num_nodes, dtype=torch.long)
        cell_b = torch.zeros(cell.num_nodes, dtype=torch.long)
    return Conditioning(
        ue=ue.cond,
        cell=cell.cond,
        ue_base=ue.base,
        cell_base=cell.base,
        ue_scene=ue_b,
        cell_scene=cell_b,
        edge_index={et: batch[et].edge_index for et in EDGE_TYPES},
        edge_attr={et: batch[et].edge_attr for et in EDGE_TYPES},
        n_scenes=int(getattr(batch, "num_graphs", 1) or 1),
    )


def fit_standardisation(
    graphs: list[HeteroData], target: str, prb_atom: bool = False
) -> dict[str, Any]:
    """Per-dimension mean and std of the target over the valid entries of training graphs.

    ``prb_atom``: as :class:`DenoiserConfig` (PRB entries at the atom are not valid).
    """
    out = {}
    for nt in ("ue", "cell"):
        y = torch.cat([g[nt].y for g in graphs])  # [N, d]
        masks = [g[nt].y_mask if nt == "ue" else cell_target_mask(g[nt], prb_atom) for g in graphs]
        m = torch.cat(masks).float()  # [N, d]
        if target == "innovation":
            y = y - torch.cat([g[nt].base for g in graphs])
        cnt = m.sum(0).clamp_min(1.0)  # [d]
        mean = (y * m).sum(0) / cnt
        std = (((y - mean) ** 2 * m).sum(0) / cnt).sqrt().clamp_min(1e-3)
        out[f"{nt}_shift"] = tuple(float(v) for v in mean)
        out[f"{nt}_scale"] = tuple(float(v) for v in std)
    return out


# ---------------------------------------------------------------------------- loss
def diffusion_loss(
    head: DiffusionHead,
    batch: HeteroData,
    generator: torch.Generator | None,
    cond_dropout: float,
) -> torch.Tensor:
    """Masked v-prediction loss of one batch (module docstring).

    **Input:** a batch of graphs prepared by :func:`attach_conditioning` with targets.
    **Output:** scalar.
    """
    cond = cached_conditioning(batch)
    ue, cell = batch["ue"], batch["cell"]
    m_u = ue.y_mask.float()  # [n_ues, 3]
    m_c = cell_target_mask(cell, head.cfg.prb_atom).float()  # [n_cells, 2]
    x0_u, x0_c = head.to_state(ue.y, cell.y, cond)
    x0_u, x0_c = x0_u * m_u, x0_c * m_c  # invalid entries: 0 (and no loss)
    n_b = cond.n_scenes
    # low-discrepancy t per scene (VDM App. I.1): t_b = (u + b / B) mod 1
    u0 = torch.rand((), generator=generator)
    t = torch.remainder(u0 + torch.arange(n_b) / n_b, 1.0)  # [B]
    lam = head.schedule.logsnr(t)  # [B]
    a, s = alpha_sigma(lam)  # [B]
    a_u, s_u = a[cond.ue_scene, None], s[cond.ue_scene, None]  # [n_ues, 1]
    a_c, s_c = a[cond.cell_scene, None], s[cond.cell_scene, None]  # [n_cells, 1]
    eps_u = torch.randn(x0_u.shape, generator=generator)
    eps_c = torch.randn(x0_c.shape, generator=generator)
    drop = torch.rand(n_b, generator=generator) < cond_dropout  # [B]
    prev = None  # [n_ues, 6] the simulator's previous step (teacher forcing)
    if head.cfg.next_state:
        prev = previous_columns(ue.prev_y, ue.moved_m, ue.d_corr_m, *head.ue_standardisation())
    c_ue = head.ue_condition(cond, ue.active if head.cfg.use_activity else None, prev)
    v_u, v_c = head.denoiser(
        a_u * x0_u + s_u * eps_u,
        a_c * x0_c + s_c * eps_c,
        lam[cond.ue_scene],
        lam[cond.cell_scene],
        c_ue,
        cond.cell,
        cond.edge_index,
        cond.edge_attr,
        drop[cond.ue_scene],
        drop[cond.cell_scene],
    )
    err_u = (v_u - v_target(x0_u, eps_u, a_u, s_u)) ** 2 * m_u  # [n_ues, 3]
    err_c = (v_c - v_target(x0_c, eps_c, a_c, s_c)) ** 2 * m_c  # [n_cells, 2]
    return err_u.sum() / m_u.sum().clamp_min(1) + err_c.sum() / m_c.sum().clamp_min(1)


@torch.no_grad()
def evaluate_loss(head: DiffusionHead, graphs: list[HeteroData], batch_size: int = 32) -> float:
    """Mean validation loss with a fixed generator (comparable between epochs)."""
    head.eval()
    g = torch.Generator().manual_seed(1234)
    tot, n = 0.0, 0
    for batch in DataLoader(graphs, batch_size=batch_size):
        for _ in range(2):  # two noise draws per scene: less noisy criterion
            tot += float(diffusion_loss(head, batch, g, 0.0)) * batch.num_graphs
            n += batch.num_graphs
    return tot / max(n, 1)


# ---------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train_diffusion`."""

    head: DiffusionHead
    best_val: float
    epochs_run: int
    stopped: str  # "early-stopping" | "epochs" | "time"
    history: list[dict]


def train_diffusion(
    twin: Twin,
    train: list[HeteroData],
    val: list[HeteroData],
    args: TrainArgs,
    log_csv: str | Path | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train a diffusion head on graphs (with targets) on top of a frozen twin.

    Seeds torch's global RNG with ``args.seed`` (weight initialisation) — the only place that
    does. Graphs get the twin's condition cached on them (:func:`attach_conditioning`).
    """
    if not train or not val:
        raise ValueError(f"need training and validation graphs, got {len(train)} and {len(val)}")
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    for p in twin.model.parameters():
        p.requires_grad_(False)
    for gs in (train, val):
        if not hasattr(gs[0]["ue"], "cond"):
            attach_conditioning(twin, gs)
        if args.next_state and attach_previous(gs) == 0:
            raise ValueError(
                "next_state: no consecutive super-steps in the data (the datasets need "
                "episodes of 2 steps or more)"
            )
    cfg = DenoiserConfig(
        hidden=args.hidden,
        n_layers=args.n_layers,
        heads=args.heads,
        target=args.target,
        cond_dropout=args.cond_dropout,
        use_activity=args.use_activity,
        next_state=args.next_state,
        twin_hidden=twin.model.cfg.hidden,
        prb_atom=twin.model.cfg.prb_full,  # keep the twin's atom at PRB = 1
        **fit_standardisation(train, args.target, twin.model.cfg.prb_full),
    )
    head = DiffusionHead(cfg, CosineSchedule())
    opt = torch.optim.AdamW(head.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, generator=g)
    stopper, history, stopped = EarlyStopping(args.patience), [], "epochs"
    start = time.monotonic()
    bar = tqdm(range(args.epochs), desc="train diffusion", unit="epoch", disable=not progress)
    with CsvLog(log_csv) as log:
        for epoch in bar:
            head.train()
            run, n = 0.0, 0
            for batch in loader:
                loss = diffusion_loss(head, batch, g, args.cond_dropout)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(head.parameters(), 1.0)
                opt.step()
                run += float(loss.detach()) * batch.num_graphs
                n += batch.num_graphs
            sched.step()
            val_loss = evaluate_loss(head, val)
            row = {
                "epoch": epoch,
                "train_loss": run / n,
                "val_loss": val_loss,
                "lr": opt.param_groups[0]["lr"],
                "seconds": time.monotonic() - start,
            }
            history.append(row)
            log.write(row)
            bar.set_postfix(train=f"{run / n:.4f}", val=f"{val_loss:.4f}")
            if stopper.update(val_loss, head):
                stopped = "early-stopping"
                break
            if time.monotonic() - start > args.max_minutes * 60:
                stopped = "time"
                break
    stopper.restore(head)
    head.eval()
    return TrainResult(head, stopper.best, len(history), stopped, history)


def run(args: TrainArgs, progress: bool = True) -> TrainResult:
    """Load the twin and the datasets, train, and write the checkpoint to ``args.out``."""
    if not args.data or not args.val_data:
        raise ValueError("data and val_data must each name at least one dataset directory")
    twin = Twin.load(args.twin)
    train = load_graphs(args.data, twin.graph_cfg, progress=progress)
    val = load_graphs(args.val_data, twin.graph_cfg, progress=progress)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    res = train_diffusion(twin, train, val, args, out / "metrics.csv", progress)
    save_diffusion(
        out,
        res.head,
        twin.model,
        twin_path=str(args.twin),
        extra={
            "train": asdict(args),
            "metrics": {
                "best_val_loss": res.best_val,
                "epochs_run": res.epochs_run,
                "stopped": res.stopped,
            },
        },
    )
    return res


def main(argv: list[str] | None = None) -> int:
    """Command line over :class:`TrainArgs` (``--help`` lists every argument)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    doc = TrainArgs.__doc__ or ""
    for f in fields(TrainArgs):
        flag = "--" + f.name.replace("_", "-")
        helptext = doc.split(f"{f.name}:")[1].split("\n")[0].strip() if f"{f.name}:" in doc else ""
        if f.name in ("data", "val_data"):
            ap.add_argument(flag, action="append", default=[], help=helptext)
        elif f.type in ("bool", bool):
            ap.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=f.default, help=helptext
            )
        else:
            typ = {"int": int, "float": float, "str": str}[str(f.type)]
            ap.add_argument(flag, type=typ, default=f.default, help=helptext)
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ns = vars(ap.parse_args(argv))
    progress = not ns.pop("no_progress")
    res = run(TrainArgs(**ns), progress=progress)
    print(f"best val loss {res.best_val:.4f} after {res.epochs_run} epochs ({res.stopped})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
