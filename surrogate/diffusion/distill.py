r"""Progressive distillation of the diffusion head to few DDIM steps (a training entry point).

    python -m rantwin.surrogate.diffusion.distill --head runs/diffusion \
        --twin surrogate/default_twin --data runs/d/uma-irregular --steps 8 --steps 4 \
        --out runs/diffusion-distilled

Salimans & Ho 2022 ("Progressive distillation for fast sampling of diffusion models",
Algorithm 2): a student initialised from the teacher learns to do in **one** DDIM step what the
teacher does in **two**; the student becomes the next teacher, halving the steps each stage
(here ``2N → N`` for every ``N`` in ``--steps``, the first teacher sampling with ``2N`` DDIM
steps). One student step from ``t = i / N`` to ``t'' = t − 1/N``:

1. ``z_t = α_t x + σ_t ε`` (x a training state);
2. two teacher DDIM steps ``t → t' = t − 1/(2N) → t''`` give ``z_t''`` (Song et al. 2021, eq. 12);
3. the target ``x̃ = (z_t'' − (σ_t''/σ_t) z_t) / (α_t'' − (σ_t''/σ_t) α_t)`` is the ``x̂_0``
   that makes a single DDIM step from ``z_t`` land on ``z_t''`` (Algorithm 2);
4. loss ``max(SNR_t, 1) · ‖x̂_0^student − x̃‖²`` ("truncated SNR" weighting, §4), on the
   valid entries (masks as in :mod:`.train`).

The student is the conditional model (guidance ``w = 1``); its checkpoint records the sampler it
was distilled for (``"sampler": {"kind": "ddim", "steps": N}``) — sample it with exactly that.
"""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch_geometric.data import HeteroData
from torch_geometric.loader import DataLoader
from tqdm import tqdm

from ..data import load_graphs
from ..twin import Twin
from .checkpoint import load_diffusion, save_diffusion
from .head import DiffusionHead
from .schedule import alpha_sigma
from .train import attach_conditioning, cached_conditioning


@dataclass(frozen=True)
class DistillArgs:
    """Arguments of a progressive-distillation run.

    Attributes:
        head: Teacher diffusion-head checkpoint.
        twin: Twin checkpoint the head was trained on.
        data: Training dataset directories.
        out: Output directory; stage ``N`` is written to ``out/steps-N``.
        steps: Student step counts, decreasing (each stage halves: ``2N → N``).
        iters: Optimiser steps per stage.
        batch_size: Scenes per batch.
        lr: Adam learning rate (constant; Salimans & Ho anneal linearly, see ``lr_decay``).
        lr_decay: Anneal the learning rate linearly to 0 over each stage.
        seed: Seed of shuffling, noise levels and noise.
    """

    head: str = "runs/diffusion"
    twin: str = "surrogate/default_twin"
    data: tuple[str, ...] = ()
    out: str = "runs/diffusion-distilled"
    steps: tuple[int, ...] = (8, 4)
    iters: int = 600
    batch_size: int = 16
    lr: float = 5e-4
    lr_decay: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", tuple(self.data))
        object.__setattr__(self, "steps", tuple(int(s) for s in self.steps))
        if not self.steps or any(s < 1 for s in self.steps):
            raise ValueError(f"steps must be a non-empty list of ints >= 1, got {self.steps}")
        if list(self.steps) != sorted(self.steps, reverse=True):
            raise ValueError(f"steps must be decreasing, got {self.steps}")
        for name in ("iters", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


def _ddim_step(head: DiffusionHead, z, lam_t, lam_s, args):
    """One DDIM step of the (conditional) head from λ_t to λ_s, per scene.

    **Input:** ``z = (z_ue [n_ues, 3], z_cell [n_cells, 2])``; ``lam_t, lam_s: [B]``.
    **Output:** ``(x̂_0, z_s)`` tuples of the same shapes.
    """
    cond, c_ue, scene = args
    a_t, s_t = alpha_sigma(lam_t)  # [B]
    a_s, s_s = alpha_sigma(lam_s)
    v = head.denoiser(
        z[0], z[1], lam_t[scene[0]], lam_t[scene[1]], c_ue, cond.cell,
        cond.edge_index, cond.edge_attr,
    )  # fmt: skip
    x0s, zs = [], []
    for zi, vi, sc in zip(z, v, scene, strict=True):
        at, st, as_, ss = a_t[sc, None], s_t[sc, None], a_s[sc, None], s_s[sc, None]
        x0 = at * zi - st * vi  # Salimans & Ho 2022, App. D
        eps = (zi - at * x0) / st
        x0s.append(x0)
        zs.append(as_ * x0 + ss * eps)  # Song et al. 2021, eq. 12 (η = 0)
    return tuple(x0s), tuple(zs)


def distill_stage(
    teacher: DiffusionHead,
    graphs: list[HeteroData],
    n_student: int,
    args: DistillArgs,
    generator: torch.Generator,
    progress: bool = True,
) -> tuple[DiffusionHead, list[float]]:
    """One stage: a student that does in ``n_student`` DDIM steps what the teacher does in twice.

    **Output:** ``(student, losses per iteration)``.
    """
    student = copy.deepcopy(teacher).train()
    teacher = teacher.eval()
    sch = teacher.schedule
    opt = torch.optim.Adam(student.parameters(), lr=args.lr)
    total = args.iters
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: 1.0 - k / total if args.lr_decay else 1.0
    )
    loader = DataLoader(graphs, batch_size=args.batch_size, shuffle=True, generator=generator)
    losses: list[float] = []
    bar = tqdm(total=total, desc=f"distill → {n_student} steps", disable=not progress)
    while len(losses) < total:
        for batch in loader:
            if len(losses) >= total:
                break
            cond = cached_conditioning(batch)
            ue, cell = batch["ue"], batch["cell"]
            m_u, m_c = ue.y_mask.float(), cell.y_mask.float()
            x_u, x_c = teacher.to_state(ue.y, cell.y, cond)
            x_u, x_c = x_u * m_u, x_c * m_c
            c_ue = teacher.ue_condition(cond, ue.active if teacher.cfg.use_activity else None)
            scene = (cond.ue_scene, cond.cell_scene)
            # 1. t = i / N, t' = t − 1/(2N), t'' = t − 1/N per scene
            i = torch.randint(1, n_student + 1, (cond.n_scenes,), generator=generator)  # [B]
            t = i.double() / n_student
            lam_t = sch.logsnr(t).float()
            lam_t1 = sch.logsnr(t - 0.5 / n_student).float()
            lam_t2 = sch.logsnr(t - 1.0 / n_student).float()
            a_t, s_t = alpha_sigma(lam_t)
            a_2, s_2 = alpha_sigma(lam_t2)
            eps = (torch.randn(x_u.shape, generator=generator),
                   torch.randn(x_c.shape, generator=generator))  # fmt: skip
            z = tuple(
                a_t[sc, None] * x + s_t[sc, None] * e
                for x, e, sc in zip((x_u, x_c), eps, scene, strict=True)
            )  # fmt: skip
            with torch.no_grad():  # 2. two teacher DDIM steps
                _, z1 = _ddim_step(teacher, z, lam_t, lam_t1, (cond, c_ue, scene))
                _, z2 = _ddim_step(teacher, z1, lam_t1, lam_t2, (cond, c_ue, scene))
            # 3. the x̂_0 whose single DDIM step from z_t lands on z_t''
            ratio = s_2 / s_t  # [B]
            den = a_2 - ratio * a_t  # [B]
            target = tuple(
                (zz2 - ratio[sc, None] * zz) / den[sc, None]
                for zz, zz2, sc in zip(z, z2, scene, strict=True)
            )  # fmt: skip
            x0_s, _ = _ddim_step(student, z, lam_t, lam_t2, (cond, c_ue, scene))
            # 4. truncated-SNR weight max(SNR, 1)
            w = torch.exp(lam_t).clamp_min(1.0)  # [B]
            loss = torch.zeros(())
            for xs, tg, m, sc in zip(x0_s, target, (m_u, m_c), scene, strict=True):
                loss = loss + (w[sc, None] * (xs - tg) ** 2 * m).sum() / m.sum().clamp_min(1)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
    bar.close()
    return student.eval(), losses


def run(args: DistillArgs, progress: bool = True) -> list[Path]:
    """Load the teacher, twin and data; distill stage by stage; write each student."""
    g = torch.Generator().manual_seed(args.seed)  # every draw; the student copies the teacher
    twin = Twin.load(args.twin)
    teacher, meta = load_diffusion(args.head, twin.model)
    graphs = load_graphs(args.data, twin.graph_cfg, progress=progress)
    attach_conditioning(twin, graphs)
    # distillation trains the conditional model only: no condition dropout
    teacher.cfg = replace(teacher.cfg, cond_dropout=0.0)
    outs = []
    for n in args.steps:
        t0 = time.monotonic()
        student, losses = distill_stage(teacher, graphs, n, args, g, progress)
        out = Path(args.out) / f"steps-{n}"
        save_diffusion(
            out, student, twin.model, twin_path=str(args.twin),
            extra={"sampler": {"kind": "ddim", "steps": n, "spacing": "time", "clip_x0": None},
                   "distill": {**asdict(args), "teacher": str(args.head),
                               "final_loss": sum(losses[-50:]) / len(losses[-50:]),
                               "minutes": (time.monotonic() - t0) / 60},
                   "base": meta.get("train")},
        )  # fmt: skip
        outs.append(out)
        teacher = student
    return outs


def main(argv: list[str] | None = None) -> int:
    """Command line over :class:`DistillArgs`."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    d = DistillArgs()
    ap.add_argument("--head", required=True, help="teacher diffusion-head checkpoint")
    ap.add_argument("--twin", default=d.twin, help="twin checkpoint")
    ap.add_argument("--data", action="append", required=True, help="training dataset (repeat)")
    ap.add_argument("--out", default=d.out, help="output dir (out/steps-N per stage)")
    ap.add_argument("--steps", type=int, action="append", help="student steps (repeat; 8 4)")
    ap.add_argument("--iters", type=int, default=d.iters, help="optimiser steps per stage")
    ap.add_argument("--batch-size", type=int, default=d.batch_size, help="scenes per batch")
    ap.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate")
    ap.add_argument("--seed", type=int, default=d.seed, help="seed")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ns = ap.parse_args(argv)
    args = DistillArgs(
        head=ns.head, twin=ns.twin, data=tuple(ns.data), out=ns.out,
        steps=tuple(ns.steps or d.steps), iters=ns.iters, batch_size=ns.batch_size, lr=ns.lr,
        seed=ns.seed,
    )  # fmt: skip
    for p in run(args, progress=not ns.no_progress):
        print(f"student written to {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
