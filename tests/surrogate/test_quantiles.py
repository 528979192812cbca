import torch

from rantwin.surrogate.quantiles import LEVELS, QuantileHead, pinball_loss, quantile_at, sample


def test_head_is_non_crossing_for_any_input():
    head = QuantileHead(8, 3)
    q = head(torch.randn(100, 8) * 50)
    assert q.shape == (100, 3, len(LEVELS))
    assert torch.all(q.diff(dim=-1) > 0)


def test_pinball_minimised_by_true_quantiles():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(20000, 1, generator=g)
    from scipy.stats import norm

    true_q = torch.tensor(norm.ppf(LEVELS), dtype=torch.float32).expand(20000, 1, -1)
    assert pinball_loss(true_q, y) < pinball_loss(true_q + 0.2, y)
    assert pinball_loss(true_q, y) < pinball_loss(true_q * 1.3, y)


def test_pinball_mask_ignores_masked_targets():
    q = torch.zeros(2, 1, len(LEVELS))
    y = torch.tensor([[0.0], [1e6]])
    mask = torch.tensor([[True], [False]])
    assert pinball_loss(q, y, mask) == 0.0


def test_inverse_cdf_interpolates_knots_and_samples_match():
    q = torch.linspace(-9, 9, len(LEVELS))[None, None]  # q(τ) = 20 τ − 10: U(−10, 10)
    u = torch.tensor(LEVELS)[:, None, None]
    torch.testing.assert_close(quantile_at(q, u)[:, 0, 0], q[0, 0])
    s = sample(q, 50000, torch.Generator().manual_seed(1))
    emp = torch.quantile(s.flatten(), torch.tensor([0.25, 0.5, 0.75]))
    torch.testing.assert_close(emp, torch.tensor([-5.0, 0.0, 5.0]), atol=0.15, rtol=0)
