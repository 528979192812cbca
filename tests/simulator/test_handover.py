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


def test_batched_networks_run_exactly_as_alone():
    """A batch of networks (other CIOs, sleep, clocks, ping-pong history) gives each one what
    it gets alone, handover times included."""
    g = torch.Generator().manual_seed(0)
    n_cells, n_ues, n_points = 4, 30, 25
    rsrp = -90 + 8 * torch.randn(n_points, 3, n_cells, n_ues, generator=g, dtype=torch.float64)
    awake = torch.tensor([[True] * 4, [True, False, True, True], [True] * 4])
    cio = torch.tensor(
        [[0.0] * 4, [3.0, 0.0, -2.0, 1.0], [0.0, 6.0, 0.0, 0.0]], dtype=torch.float64
    )
    start = torch.tensor([0.0, 17.2, 3.0], dtype=torch.float64)
    states = []
    for b in range(3):
        st = _state(rsrp[0, b], torch.randint(0, n_cells, (n_ues,), generator=g).tolist())
        last = torch.where(torch.arange(n_ues) % 2 == 0, start[b] - 0.5, -math.inf)
        states.append(HandoverState(st.l3_rsrp_dbm, st.serving, st.ttt_ms, st.ttt_target,
                                    (st.serving + 1) % n_cells, last))  # fmt: skip
    fields = ("l3_rsrp_dbm", "serving", "ttt_ms", "ttt_target", "previous", "last_ho_s")
    batched = HandoverState(*(torch.stack([getattr(s, f) for s in states]) for f in fields))
    args = (2.0, 200.0, 200.0, 4, 2.0)
    new_b, counts_b = run_a3(batched, rsrp, awake, cio, *args, start)
    assert counts_b.handovers.sum() > 0 and counts_b.pingpongs.sum() > 0
    for b in range(3):
        new, counts = run_a3(states[b], rsrp[:, b], awake[b], cio[b], *args, float(start[b]))
        for f in fields:
            assert torch.equal(getattr(new_b, f)[b], getattr(new, f)), f
        assert torch.equal(counts_b.handovers[b], counts.handovers)
        assert torch.equal(counts_b.pingpongs[b], counts.pingpongs)
        assert torch.equal(counts_b.handovers_out[b], counts.handovers_out)
