"""The diffusion benchmark's figures: the NFE curve and the guidance sweep."""

from __future__ import annotations

import json

from rantwin.bench import diffusion


def _summary(ratio: float) -> dict:
    return {
        k: {"crps": ratio, "crps_floor": 1.0, "spread_skill": ratio} for k in diffusion.CONTINUOUS
    }


def test_plots_are_written_and_replotted(tmp_path, monkeypatch):
    res = {
        "quantile": _summary(1.2),
        "diffusion_reference": _summary(1.05),
        "nfe_vs_crps": [
            {"kind": k, "nfe": n, "crps_over_floor": 1.0 + 0.2 / n}
            for k in ("ddim", "dpmpp2m")
            for n in (4, 8, 16)
        ],
        "guidance": [
            {"w": w, "crps_over_floor": 1.1 + 0.01 * w, "spread_skill": {"ue/sinr_db": 1 - 0.1 * w}}
            for w in (0.0, 1.0, 2.0)
        ],
    }
    paths = diffusion.plot(res, tmp_path)
    assert [p.name for p in paths] == ["nfe_vs_crps.png", "guidance.png"]
    assert all(p.stat().st_size > 5000 for p in paths)
    for p in paths:
        p.unlink()
    (tmp_path / "diffusion-bench.json").write_text(json.dumps(res))
    monkeypatch.setattr("sys.argv", ["diffusion", "--replot", "--out", str(tmp_path)])
    diffusion.main()
    assert (tmp_path / "guidance.png").exists() and (tmp_path / "nfe_vs_crps.png").exists()
    assert diffusion.plot({"quantile": res["quantile"]}, tmp_path) == []  # nothing to draw
