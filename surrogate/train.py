"""Training of the twin: pinball + event losses, physics-informed schedule, early stopping.

Loss of a batch (normalised units, :mod:`.data`):

``L_real = pinball(UE) + pinball(cell) + BCE(active) + PoissonNLL(UE handovers)
+ PoissonNLL(cell handovers) + β · KL`` (KL only with a latent). With the mixed PRB head
(``TwinConfig.prb_full``) ``+ BCE(PRB = 1)`` over loaded cells, and the PRB pinball only over
the loaded cells below 1 (the two parts of a hurdle model are fitted separately).

Physics-informed teacher–student schedule (after the physics-informed diffusion RSRP/SINR
paper): Φ is the teacher. Its label is Φ's own RSRP of the serving link, which in the twin's
residual parameterisation means a median residual of 0. Phase 1 (``physics_epochs``) trains
on ``L_phys`` (pinball of the median UE RSRP quantile against the Φ label) plus the event
losses; phase 2 trains on ``γ · L_real + δ · L_phys`` (defaults γ = 0.8, δ = 0.2).
``physics_epochs = 0`` and ``δ = 0`` is training on simulator data alone.

Φ's geometry SINR is *not* a label: it assumes every co-channel cell transmits, so it is
biased low whenever cells are partly idle, and with it in the physics loss the held-out SINR
CRPS was 6.06 against 5.23 without (``docs/twin-ablation.md``).

This module is a training entry point: :func:`train_twin` seeds the process (torch's global
RNG initialises the weights) and nothing else in the library does.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

import torch
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch_geometric.data import HeteroData
from torch_geometric.loader import DataLoader
from tqdm import tqdm

from .model import TwinConfig, TwinModel, TwinOutput
from .quantiles import LEVELS, pinball_loss
from .ssm import ou_nll
from .training_log import CsvLog, EarlyStopping, check_optimisation_args

_MEDIAN = LEVELS.index(0.5)

#: Weights of the loss terms in the held-out criterion that early stopping and checkpoint
#: selection use. Handover counts vary a lot between held-out layouts (their NLL swings by
#: several nats from epoch to epoch) and would otherwise decide alone when the distribution
#: heads stop; the KL is a regulariser, not a fit.
VAL_WEIGHTS = {
    "ue_pinball": 1.0,
    "cell_pinball": 1.0,
    "active_bce": 1.0,
    "ue_ho_nll": 0.1,
    "cell_ho_nll": 0.1,
    "prb_full_bce": 1.0,
    "kl": 0.0,
    "tti_nll": 0.1,
}


@dataclass(frozen=True)
class TrainConfig:
    """Arguments of a training run (saved in the checkpoint).

    Attributes:
        epochs: Maximum epochs (physics phase included).
        batch_size: Graphs per batch.
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        patience: Epochs without validation improvement before stopping.
        physics_epochs: Epochs of phase 1 (Φ labels only).
        gamma: Weight of the simulator loss in phase 2.
        delta: Weight of the physics loss in phase 2.
        max_minutes: Wall-clock budget; training stops (keeping the best state) when spent.
        seed: Seed of weights, shuffling and latent noise.
        ema_decay: Decay of the exponential moving average of the weights kept over the
            joint phase (Polyak averaging; updated after every optimiser step). Validation,
            early stopping and the saved checkpoint use the averaged weights; 0 turns the
            average off (the raw weights of the best epoch are kept).
    """

    epochs: int = 60
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 1e-4
    patience: int = 8
    physics_epochs: int = 2
    gamma: float = 0.8
    delta: float = 0.2
    max_minutes: float = 60.0
    seed: int = 0
    ema_decay: float = 0.995

    def __post_init__(self) -> None:
        check_optimisation_args(self)
        for name in ("gamma", "delta", "weight_decay"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if not 0 <= self.physics_epochs < self.epochs:
            raise ValueError(
                f"physics_epochs must be in [0, epochs={self.epochs}), got {self.physics_epochs}"
            )


#: PRB utilisation at or above this is the saturated atom (the simulator writes exactly 1.0).
PRB_FULL = 1.0 - 1e-6


def cell_target_mask(cell, prb_atom: bool) -> torch.Tensor:
    """Which cell targets a continuous head is fitted on: ``[n_cells, 2]`` bool.

    The loaded cells (``y_mask``); with the atom at PRB = 1 modelled apart (the mixed PRB
    head, ``TwinConfig.prb_full``), PRB utilisation only of the loaded cells below it.
    """
    if not prb_atom:
        return cell.y_mask
    below = cell.y[:, 0] < PRB_FULL  # [n_cells]
    return torch.stack([cell.y_mask[:, 0] & below, cell.y_mask[:, 1]], -1)


def real_loss(out: TwinOutput, batch: HeteroData, beta: float) -> dict[str, torch.Tensor]:
    """Loss terms against the simulator's KPIs."""
    ue, cell = batch["ue"], batch["cell"]
    extra: dict[str, torch.Tensor] = {}
    if out.cell_full_logit is not None:  # hurdle: P(PRB = 1), quantiles of PRB < 1
        loaded = cell.y_mask[:, 0]  # [n_cells]
        full = cell.y[:, 0] >= PRB_FULL  # [n_cells]
        bce = F.binary_cross_entropy_with_logits(
            out.cell_full_logit, full.float(), reduction="none"
        )  # [n_cells]
        extra["prb_full_bce"] = (bce * loaded).sum() / loaded.sum().clamp_min(1)
    cell_mask = cell_target_mask(cell, out.cell_full_logit is not None)  # [n_cells, 2]
    return {
        "ue_pinball": pinball_loss(out.ue_q, ue.y, ue.y_mask),
        "cell_pinball": pinball_loss(out.cell_q, cell.y, cell_mask),
        "active_bce": F.binary_cross_entropy_with_logits(out.ue_active_logit, ue.active.float()),
        # full=True adds the Stirling term of log(y!): a proper NLL, comparable across data
        "ue_ho_nll": F.poisson_nll_loss(
            out.ue_ho_log_rate, ue.handovers, log_input=True, full=True
        ),
        "cell_ho_nll": F.poisson_nll_loss(
            out.cell_ho_log_rate, cell.handovers_out, log_input=True, full=True
        ),
        "kl": beta * out.kl,
        "tti_nll": ou_nll(
            ue.tti_resid, ue.tti_index, out.tti_log_sigma, out.tti_log_delta, ue.tti_mask
        ),  # fmt: skip
        **extra,
    }


def physics_loss(out: TwinOutput) -> torch.Tensor:
    """Pinball of the median UE RSRP residual against Φ's label (0)."""
    med = out.ue_q[:, 0, _MEDIAN]  # [n_ues]; label 0 => pinball_0.5 = |med| / 2
    return 0.5 * med.abs().mean()


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train_twin`."""

    model: TwinModel
    best_val: float
    epochs_run: int
    stopped: str  # "early-stopping" | "epochs" | "time"
    history: list[dict]


def _evaluate(model: TwinModel, loader: DataLoader, beta: float, seed: int) -> dict[str, float]:
    """Mean of every loss term over the validation graphs (and their sum, ``val_loss``).

    The posterior's latent noise comes from a generator seeded with ``seed`` afresh on every
    call: every epoch is graded on the same draws (common random numbers), so the loss
    differences between epochs are the weights', not the noise's.
    """
    model.eval()
    g = torch.Generator().manual_seed(seed)
    totals: dict[str, float] = {}
    n = 0
    with torch.no_grad():
        for batch in loader:
            for k, v in real_loss(model(batch, generator=g), batch, beta).items():
                totals[k] = totals.get(k, 0.0) + float(v) * batch.num_graphs
            n += batch.num_graphs
    out = {f"val_{k}": v / max(n, 1) for k, v in totals.items()}
    # terms a model does not have (prb_full_bce without the mixed PRB head) count 0
    out["val_loss"] = sum(out.get(f"val_{k}", 0.0) * w for k, w in VAL_WEIGHTS.items())
    return out


def train_twin(
    train: list[HeteroData],
    val: list[HeteroData],
    model_cfg: TwinConfig,
    cfg: TrainConfig,
    log_csv: str | Path | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train a twin; keep the weights of the best validation epoch.

    Over the joint phase the validation loss is that of an exponential moving average of
    the weights (``cfg.ema_decay``; Polyak & Juditsky 1992, as ``torch.optim.swa_utils``
    implements it): epoch-to-epoch noise of the raw weights, mostly in the handover heads'
    NLL on held-out layouts, otherwise decides which epoch is kept.

    Args:
        train: Training graphs (with targets).
        val: Validation graphs — from held-out deployments, not held-out samples.
        model_cfg: Architecture.
        cfg: Optimisation and schedule.
        log_csv: Per-epoch metrics file (written as training goes).
        progress: Progress bar.
    """
    if not train or not val:
        raise ValueError(f"need training and validation graphs, got {len(train)} and {len(val)}")
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    model = TwinModel(model_cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    loader = DataLoader(train, batch_size=cfg.batch_size, shuffle=True, generator=g)
    val_loader = DataLoader(val, batch_size=cfg.batch_size)
    stopper, history = EarlyStopping(cfg.patience), []
    ema = (
        AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
        if cfg.ema_decay > 0
        else None
    )
    start = time.monotonic()
    stopped = "epochs"
    bar = tqdm(range(cfg.epochs), desc="train twin", unit="epoch", disable=not progress)
    with CsvLog(log_csv) as log:
        for epoch in bar:
            phase = "physics" if epoch < cfg.physics_epochs else "joint"
            model.train()
            run, n = 0.0, 0
            for batch in loader:
                out = model(batch, generator=g)
                terms = real_loss(out, batch, model_cfg.beta)
                events = sum(
                    terms[k]
                    for k in ("active_bce", "ue_ho_nll", "cell_ho_nll", "prb_full_bce")
                    if k in terms
                )
                if phase == "physics":
                    loss = physics_loss(out) + events
                else:
                    loss = cfg.gamma * sum(terms.values()) + cfg.delta * physics_loss(out)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                opt.step()
                if ema is not None and phase == "joint":  # the first update copies the weights
                    ema.update_parameters(model)
                run += float(loss.detach()) * batch.num_graphs
                n += batch.num_graphs
            sched.step()
            graded = cast(TwinModel, ema.module) if ema is not None and phase == "joint" else model
            val_terms = _evaluate(graded, val_loader, model_cfg.beta, cfg.seed + 1)
            val_loss = val_terms["val_loss"]
            row = {
                "epoch": epoch,
                "phase": phase,
                "train_loss": run / n,
                **val_terms,
                "lr": opt.param_groups[0]["lr"],
                "seconds": time.monotonic() - start,
            }
            history.append(row)
            log.write(row)
            bar.set_postfix(val=f"{val_loss:.4f}", phase=phase)
            if phase == "joint" and stopper.update(val_loss, graded):
                stopped = "early-stopping"
                break
            if time.monotonic() - start > cfg.max_minutes * 60:
                stopped = "time"
                break
    stopper.restore(model)
    model.eval()
    return TrainResult(model, stopper.best, len(history), stopped, history)


def train_config_dict(cfg: TrainConfig) -> dict:
    """JSON-safe dict of a training config."""
    return asdict(cfg)
