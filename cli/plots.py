"""Figures of a dataset: coupling-loss and SINR CDFs, throughput CDF, deployment map."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rantwin.datasets import open_dataset  # noqa: E402
from rantwin.scenarios import scenario_from_dict  # noqa: E402


def ecdf(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values and their empirical CDF levels."""
    x = np.sort(np.asarray(x, dtype=float))
    return x, (np.arange(1, x.size + 1)) / x.size


def dataset_plots(path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write ``cdfs.png`` and ``map.png`` for a dataset; returns the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ds = open_dataset(path)
    ues = ds.table("ues").to_pydict()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, col, label in zip(
        axes,
        ("coupling_loss_db", "sinr_db", "throughput_mbps"),
        ("coupling loss [dB]", "wideband SINR [dB]", "UE throughput [Mbit/s]"),
        strict=True,
    ):
        values = np.asarray(ues[col])
        if col == "throughput_mbps":  # inactive UEs have no traffic: leave them out
            values = values[np.asarray(ues["active"])]
            label = "UE throughput, active UEs [Mbit/s]"
        x, y = ecdf(values)
        ax.plot(x, y)
        ax.set_xlabel(label)
        ax.set_ylabel("CDF")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{path}: {len(ues['ue'])} UE super-steps")
    fig.tight_layout()
    cdf_path = out_dir / "cdfs.png"
    fig.savefig(cdf_path, dpi=110)
    plt.close(fig)

    world_id = min(ds.worlds())
    sc = scenario_from_dict(ds.worlds()[world_id])
    map_path = out_dir / "map.png"
    plot_map(sc, ues, world_id, map_path)
    return [cdf_path, map_path]


def plot_map(sc, ues: dict, world_id: int, path: Path) -> None:
    """Sites with sector boresights, UEs of the first super-step coloured by SINR."""
    cells = sc.cells()
    w = np.asarray(ues["world"]) == world_id
    first = w & (np.asarray(ues["episode"]) == 0) & (np.asarray(ues["step"]) == 0)
    fig, ax = plt.subplots(figsize=(6.5, 6))
    sinr = np.asarray(ues["sinr_db"])[first]
    sca = ax.scatter(
        np.asarray(ues["x_m"])[first],
        np.asarray(ues["y_m"])[first],
        c=sinr,
        s=8,
        cmap="viridis",
        vmin=-10,
        vmax=30,
    )
    fig.colorbar(sca, ax=ax, label="wideband SINR [dB]")
    span = max(np.ptp(cells.x_m), np.ptp(cells.y_m), 200.0)
    arrow = 0.1 * span
    for x, y, az, kind in zip(cells.x_m, cells.y_m, cells.azimuth_deg, cells.kind, strict=True):
        ax.plot(x, y, "k^" if kind == "macro" else "rs", ms=6)
        a = np.deg2rad(az)
        ax.annotate(
            "",
            (x + arrow * np.cos(a), y + arrow * np.sin(a)),
            (x, y),
            arrowprops={"arrowstyle": "->", "color": "k", "lw": 0.8},
        )
    ax.set_aspect("equal")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_title(f"{sc.name}: {sc.n_cells} cells, step 0")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
