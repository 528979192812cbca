import pytest
import torch

from rantwin.scenarios import load_scenario
from rantwin.surrogate.diffusion.metrics import admissibility, noise_per_re_dbm


def test_noise_per_re():
    sc = load_scenario("hex7-uma")
    n = noise_per_re_dbm(sc)
    import math

    want = -174 + 10 * math.log10(sc.deployment.scs_khz * 1e3) + sc.propagation.noise_figure_db
    assert n == pytest.approx(want, abs=1e-4)


def test_admissibility_fractions():
    rsrp = torch.tensor([[-100.0, -100.0], [-100.0, -60.0]])  # [S=2, n=2]
    sinr = torch.tensor([[5.0, 40.0], [10.0, 5.0]])  # SNR = 30 dB for rsrp -100, noise -130
    phi = torch.tensor([-100.0, -100.0])
    out = admissibility(
        rsrp,
        sinr,
        phi,
        -130.0,
        torch.tensor([[0.5, 1.2]]),
        torch.tensor([[0.1, -0.1]]),
        rsrp_budget_db=30.0,
    )
    assert out["sinr_le_snr"] == 0.75  # 40 dB > 30 dB + 1 dB tolerance
    assert out["rsrp_in_budget"] == 0.75  # |-60 - -100| = 40 dB > 30 dB
    assert out["ue_all"] == 0.5
    assert out["prb_in_unit"] == 0.5 and out["thr_nonneg"] == 0.5
    with pytest.raises(ValueError, match="sinr_tol_db"):
        admissibility(rsrp, sinr, phi, -130.0, sinr_tol_db=-1)
