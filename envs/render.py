"""The ``rgb_array`` renderer: a map of the network after the last super-step.

Cells are drawn at their site with a short line along the sector azimuth
(counter-clockwise from +x; grey when asleep), UEs as dots coloured by wideband SINR
(``viridis``, -10 … 30 dB), and a thin line from each UE to its serving cell (to the
nearest wrap-around image of the cell, so edge UEs point off the map). Matplotlib
with the Agg canvas, no display needed.
"""

from __future__ import annotations

import numpy as np

from rantwin.scenarios import Scenario

from .types import KpiSample

__all__ = ["render_map"]

#: SINR colour scale (dB).
SINR_RANGE_DB = (-10.0, 30.0)


def _nearest_image(
    scenario: Scenario, cx: np.ndarray, cy: np.ndarray, ux: np.ndarray, uy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where each UE's serving cell is seen from the UE: its nearest wrap-around image.

    With wrap-around (TR 38.901 §7.8) a UE near the edge is served by the mirror image of a
    cell on the far side; its link is drawn toward that image (off the edge of the map), not
    across the whole network. **Input/Output:** ``[n_ues]`` arrays (m).
    """
    from rantwin.radio.geometry import wraparound_offsets

    dep = scenario.deployment
    if not (dep.wraparound and dep.n_rings is not None and dep.isd_m is not None):
        return cx, cy
    offs = wraparound_offsets(dep.n_rings, dep.isd_m).double().numpy()  # [n_wrap, 2]
    ix = cx[:, None] + offs[None, :, 0]  # [n_ues, n_wrap]
    iy = cy[:, None] + offs[None, :, 1]
    best = np.argmin((ix - ux[:, None]) ** 2 + (iy - uy[:, None]) ** 2, axis=1)  # [n_ues]
    rows = np.arange(len(cx))
    return ix[rows, best], iy[rows, best]


def render_map(
    scenario: Scenario,
    kpi: KpiSample | None,
    batch: int = 0,
    member: int = 0,
    size_px: int = 400,
) -> np.ndarray:
    """Draw the map of one member of one batch element.

    Args:
        scenario: The scenario (cell positions and azimuths).
        kpi: The last super-step (``None``: cells only, e.g. right after reset).
        batch: Batch element to draw.
        member: Ensemble member to draw.
        size_px: Width and height of the image.

    Returns:
        ``[size_px, size_px, 3]`` uint8 RGB image.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cells = scenario.cells()
    x, y = np.asarray(cells.x_m, float), np.asarray(cells.y_m, float)
    az = np.deg2rad(np.asarray(cells.azimuth_deg, float))
    span = max(float(np.ptp(x)), float(np.ptp(y)), 200.0)
    arm = 0.06 * span
    dpi = 100
    fig = Figure(figsize=(size_px / dpi, size_px / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_aspect("equal")
    ax.set_axis_off()
    sleep = np.zeros(len(x), bool)
    if kpi is not None:
        sleep = kpi.cfg_sleep[batch].numpy()
        if kpi.ue_x_m is not None and kpi.ue_y_m is not None:
            ux = kpi.ue_x_m[batch, member].numpy()
            uy = kpi.ue_y_m[batch, member].numpy()
            serving = kpi.ue_serving[batch, member].numpy()
            bx, by = _nearest_image(scenario, x[serving], y[serving], ux, uy)
            # serving links: one segment per UE, [n_ues, 2, 2]
            seg = np.stack([np.stack([ux, uy], -1), np.stack([bx, by], -1)], 1)
            from matplotlib.collections import LineCollection

            ax.add_collection(LineCollection(list(seg), colors="0.75", linewidths=0.4, zorder=1))
            ax.scatter(
                ux,
                uy,
                c=kpi.ue_sinr_db[batch, member].numpy(),
                cmap="viridis",
                vmin=SINR_RANGE_DB[0],
                vmax=SINR_RANGE_DB[1],
                s=6,
                zorder=2,
            )
    for i in range(len(x)):
        color = "0.6" if sleep[i] else "tab:red"
        ax.plot(
            [x[i], x[i] + arm * np.cos(az[i])],
            [y[i], y[i] + arm * np.sin(az[i])],
            color=color,
            linewidth=2,
            zorder=3,
        )
    ax.scatter(x, y, c=np.where(sleep, "0.6", "black").tolist(), marker="^", s=30, zorder=4)
    pad = 0.1 * span
    ax.set_xlim(float(x.min()) - pad - arm, float(x.max()) + pad + arm)
    ax.set_ylim(float(y.min()) - pad - arm, float(y.max()) + pad + arm)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())  # [H, W, 4]
    return np.ascontiguousarray(rgba[..., :3], dtype=np.uint8)
