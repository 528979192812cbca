import math

import torch

from rantwin.simulator.handover import HandoverState, l3_coefficient, run_a3


def _state(rsrp0, serving):
    n = len(serving)
    return HandoverState(
        l3_rsrp_dbm=rsrp0.clone(),
        serving=torch.tensor(serving),
        ttt_ms=torch.zeros(n, dtype=torch.float64),
        ttt_target=torch.full((n,), -1),
        previous=torch.full((n,), -1),
        last_ho_s=torch.full((n,), -math.inf, dtype=torch.float64),
    )


def _crossing(n_points=40):
    """Cell 0 fades from -80 to -100 dBm, cell 1 rises from -100 to -80: equal at the middle."""
    t = torch.linspace(0, 1, n_points, dtype=torch.float64)
    r0 = -80 - 20 * t
    r1 = -100 + 20 * t
    return torch.stack([r0, r1], 1)[:, :, None]  # [points, cells, ues]


def _run(cio=(0.0, 0.0), hyst=2.0, ttt=200.0, k=0, path=None, awake=(True, True), pp_s=1.0):
    path = _crossing() if path is None else path
    st = _state(path[0], [0])
    return run_a3(
        st,
        path,
        torch.tensor(awake),
        torch.tensor(cio, dtype=torch.float64),
        hyst,
        ttt,
        100.0,
        k,
        pp_s,
        0.0,
    )


def test_l3_coefficient_spec_values():
    assert l3_coefficient(0) == 1.0
    assert l3_coefficient(4) == 0.5  # TS 38.331: a = 1/2^(k/4)


def test_handover_after_hysteresis_and_ttt():
    path = _crossing()
    new, counts = _run(path=path)
    assert counts.handovers.tolist() == [1] and new.serving.tolist() == [1]
    # A3 first holds when r1 - 2 > r0, then must hold for 200 ms = 2 more points
    diff = (path[:, 1, 0] - path[:, 0, 0]).tolist()
    first = next(i for i, d in enumerate(diff) if d > 2.0)
    assert math.isclose(new.last_ho_s.item(), (first + 1 + 2) * 0.1, abs_tol=1e-9)


def test_cio_on_target_brings_handover_earlier():
    early, _ = _run(cio=(0.0, 4.0))
    late, _ = _run(cio=(0.0, 0.0))
    assert early.last_ho_s.item() < late.last_ho_s.item()


def test_negative_cio_on_target_prevents_handover():
    new, counts = _run(cio=(0.0, -30.0))
    assert counts.handovers.item() == 0 and new.serving.item() == 0


def test_sleeping_target_never_chosen():
    new, counts = _run(awake=(True, False))
    assert counts.handovers.item() == 0


def test_pingpong_counted():
    fwd = _crossing(20)
    back = fwd.flip(0)
    path = torch.cat([fwd, back], 0)
    new, counts = _run(path=path, ttt=0.0, hyst=0.5, pp_s=5.0)
    assert counts.handovers.item() == 2
    assert counts.pingpongs.item() == 1
    _, slow = _run(path=path, ttt=0.0, hyst=0.5, pp_s=0.5)
    assert slow.handovers.item() == 2 and slow.pingpongs.item() == 0
    assert counts.handovers_out.tolist() == [1, 1]
