from rantwin.bench.simulator import bench_batched
from tests.conftest import small_variant


def test_bench_batched_reports_time_per_episode():
    out = bench_batched(small_variant(), batch=3, steps=1)
    assert out["episodes"] == 3
    assert out["superstep_s_median"] > 0
    assert abs(out["superstep_s_per_episode"] - out["superstep_s_median"] / 3) < 1e-3
