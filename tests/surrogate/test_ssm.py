import math

import torch

from rantwin.surrogate.ssm import linear_scan, ou_nll, sample_tti


def test_parallel_scan_equals_the_recurrence():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(37, 3, 5, generator=g)
    b = torch.randn(37, 3, 5, generator=g)
    h, ref = torch.zeros(3, 5), []
    for t in range(37):
        h = a[t] * h + b[t]
        ref.append(h)
    torch.testing.assert_close(linear_scan(a, b), torch.stack(ref))


def test_sampled_tti_process_has_the_ou_statistics():
    sigma, rho = 2.0, 0.9
    n = 4000
    log_sigma = torch.full((n,), math.log(sigma))
    log_delta = torch.full((n,), math.log(-math.log(rho)))
    sinr, rate = sample_tti(torch.full((1, n), 5.0), torch.full((1, n), 10.0), log_sigma,
                            log_delta, 50, torch.Generator().manual_seed(1))  # fmt: skip
    x = sinr[0] - 5.0  # [T, n]
    assert abs(x.std().item() - sigma) < 0.05
    lag1 = (x[1:] * x[:-1]).mean() / x.var()
    lag5 = (x[5:] * x[:-5]).mean() / x.var()
    assert abs(lag1.item() - rho) < 0.02 and abs(lag5.item() - rho**5) < 0.03
    # throughput follows the SINR deviation: 2^(dev/3)
    torch.testing.assert_close(rate[0], 10.0 * torch.pow(2.0, x / 3.0))


def test_ou_likelihood_is_maximised_near_the_true_parameters():
    sigma, rho = 1.5, 0.8
    n = 3000
    ls = torch.full((n,), math.log(sigma))
    ld = torch.full((n,), math.log(-math.log(rho)))
    full, _ = sample_tti(torch.zeros(1, n), torch.ones(1, n), ls, ld, 100,
                         torch.Generator().manual_seed(2))  # fmt: skip
    tti = torch.linspace(0, 99, 8).round().long()
    resid = full[0][tti].T  # [n, 8] at irregular lags
    index = tti.expand(n, -1)
    mask = torch.ones(n, dtype=torch.bool)

    def nll(s, r):
        return ou_nll(resid, index, torch.full((n,), math.log(s)),
                      torch.full((n,), math.log(-math.log(r))), mask).item()  # fmt: skip

    best = nll(sigma, rho)
    for s, r in ((sigma * 1.3, rho), (sigma / 1.3, rho), (sigma, 0.5), (sigma, 0.97)):
        assert nll(s, r) > best
