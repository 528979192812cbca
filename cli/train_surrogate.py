"""``rantwin train-surrogate``: train the generative twin on simulator datasets."""

from __future__ import annotations

import argparse

from rantwin.surrogate.graph import GraphConfig
from rantwin.surrogate.pipeline import add_slow_state, train_from_datasets, with_overrides
from rantwin.surrogate.presets import DEFAULT_PRESET, PRESETS, get_preset


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the verb."""
    presets = "; ".join(f"{k}: {v[2]}" for k, v in PRESETS.items())
    p = sub.add_parser(
        "train-surrogate",
        help="train the generative twin on simulator datasets",
        description=(
            "Train the twin (hetero-GNN with quantile/event heads, optional scene latent) on "
            "datasets written by `rantwin simulate`. Validation uses held-out deployments: "
            "--val-data (e.g. a family not in --data) or, without it, the last 20 % of the "
            "worlds. Writes CKPT/model.safetensors, CKPT/twin.json, CKPT/metrics.csv. "
            f"Presets: {presets}."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--data", action="append", required=True, help="training dataset (repeat)")
    p.add_argument("--val-data", action="append", help="held-out validation dataset (repeat)")
    p.add_argument("--out", required=True, help="checkpoint directory")
    p.add_argument("--preset", default=DEFAULT_PRESET, help="architecture/training preset")
    p.add_argument("--epochs", type=int, help="override the preset's maximum epochs")
    p.add_argument("--latent-dim", type=int, help="override the scene latent size (0 = v0)")
    p.add_argument("--conv", choices=["transformer", "hgt"], help="override the conv type")
    p.add_argument("--physics-epochs", type=int, help="epochs on Φ labels before joint training")
    p.add_argument("--gamma", type=float, help="weight of the simulator loss (joint phase)")
    p.add_argument("--delta", type=float, help="weight of the physics loss (joint phase)")
    p.add_argument("--max-minutes", type=float, help="wall-clock budget")
    p.add_argument(
        "--k-interferers",
        type=int,
        help="interferer edges per UE: the K strongest other co-channel cells by Φ "
        "(default: GraphConfig's)",
    )
    p.add_argument(
        "--path-step-m",
        type=float,
        help="metres between the points at which Φ names each UE's serving cell along its "
        "walk of the super-step, for the Φ crossings features (default: GraphConfig's, 30)",
    )
    p.add_argument(
        "--path-max-segments",
        type=int,
        help="at most this many segments per walk (0: only the start and end cells; "
        "default: GraphConfig's, 10)",
    )
    p.add_argument("--seed", type=int, help="seed of weights, shuffling and latent noise")
    p.add_argument(
        "--from",
        dest="from_ckpt",
        metavar="CKPT",
        help="keep this trained twin and only fit its slow state (UE draws that persist "
        "across super-steps) on --data, selected on --val-data; writes --out",
    )
    p.add_argument(
        "--head",
        choices=["quantile", "diffusion"],
        default="quantile",
        help="quantile: train the twin; diffusion: train a conditional diffusion head on top "
        "of the frozen twin --twin (issue #7; load it with `eval-surrogate --diffusion` or "
        "the env backend's diffusion_head=)",
    )
    p.add_argument(
        "--twin", default=None, help="--head diffusion: the frozen twin (default: the bundled)"
    )
    p.add_argument(
        "--next-state",
        action="store_true",
        help="--head diffusion: condition each super-step's draw on the previous one "
        "(trained on the simulator's previous step; sampled from the head's own draw)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train and report."""
    graph_flags = {"--k-interferers": args.k_interferers, "--path-step-m": args.path_step_m,
                   "--path-max-segments": args.path_max_segments}  # fmt: skip
    for flag, value in graph_flags.items():
        if value is not None and (args.head == "diffusion" or args.from_ckpt):
            raise ValueError(f"{flag} shapes a new twin's graph; --head diffusion and "
                             "--from keep the graph of the twin they start from")  # fmt: skip
    if args.next_state and args.head != "diffusion":
        raise ValueError("--next-state is an option of --head diffusion")
    if args.head == "diffusion":
        if args.from_ckpt:
            raise ValueError("--from and --head diffusion: choose one")
        from rantwin.envs.backends.surrogate import default_checkpoint
        from rantwin.surrogate.diffusion.train import TrainArgs
        from rantwin.surrogate.diffusion.train import run as train_diffusion

        twin = args.twin or default_checkpoint()
        if twin is None:
            raise ValueError("--twin: no bundled twin installed; name a twin checkpoint")
        kw = with_overrides(
            TrainArgs(), epochs=args.epochs, max_minutes=args.max_minutes, seed=args.seed
        )
        res = train_diffusion(
            with_overrides(kw, twin=str(twin), data=tuple(args.data),
                           val_data=tuple(args.val_data or ()), out=args.out,
                           next_state=args.next_state),
            progress=not args.no_progress,
        )  # fmt: skip
        print(
            f"diffusion head written to {args.out}: best held-out loss {res.best_val:.4f} "
            f"after {res.epochs_run} epochs ({res.stopped})"
        )
        return 0
    if args.from_ckpt:
        metrics, out = add_slow_state(
            args.from_ckpt, args.data, args.val_data or [], args.out, not args.no_progress
        )
        rho = ", ".join(f"{k[9:]} {v:.2f}" for k, v in metrics.items() if k.startswith("mean_rho"))
        print(f"twin with slow state written to {out}: mean ρ {rho}")
        return 0
    model_cfg, train_cfg = get_preset(args.preset)
    model_cfg = with_overrides(model_cfg, latent_dim=args.latent_dim, conv=args.conv)
    train_cfg = with_overrides(
        train_cfg,
        epochs=args.epochs,
        physics_epochs=args.physics_epochs,
        gamma=args.gamma,
        delta=args.delta,
        max_minutes=args.max_minutes,
        seed=args.seed,
    )
    graph_cfg = with_overrides(
        GraphConfig(), k_interferers=args.k_interferers, path_step_m=args.path_step_m,
        path_max_segments=args.path_max_segments,
    )  # fmt: skip
    result, out = train_from_datasets(
        args.data, args.val_data, args.out, model_cfg, train_cfg, not args.no_progress,
        args.preset, graph_cfg,
    )  # fmt: skip
    print(
        f"twin written to {out}: best held-out loss {result.best_val:.4f} after "
        f"{result.epochs_run} epochs ({result.stopped})"
    )
    return 0
