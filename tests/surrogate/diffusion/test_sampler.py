import pytest
import torch
from torch_geometric.data import Batch

from rantwin.surrogate.diffusion.conditioning import conditioning, replicate_edges
from rantwin.surrogate.diffusion.sampler import SamplerConfig, sample
from rantwin.surrogate.diffusion.schedule import CosineSchedule, alpha_sigma

KINDS = [("ddpm", 16), ("ddim", 6), ("dpmpp2m", 6), ("dpmpp2m-sde", 6)]


def _active(graphs, n_s):
    a = torch.cat([g["ue"].active for g in graphs])
    return a[None].expand(n_s, -1)


@pytest.mark.parametrize("kind,steps", KINDS)
def test_same_generator_same_draws_bitwise(tiny_head, tiny_twin, twin_graphs, kind, steps):
    b = Batch.from_data_list(twin_graphs[:2])
    cfg = SamplerConfig(kind=kind, steps=steps)
    draws = [
        tiny_head.sample(
            tiny_twin,
            b,
            3,
            torch.Generator().manual_seed(7),
            cfg,
            active=_active(twin_graphs[:2], 3),
        )
        for _ in range(2)
    ]
    assert torch.equal(draws[0][0], draws[1][0]) and torch.equal(draws[0][1], draws[1][1])
    assert draws[0][0].shape == (3, b["ue"].num_nodes, 3)
    assert draws[0][1].shape == (3, b["cell"].num_nodes, 2)
    other = tiny_head.sample(
        tiny_twin, b, 3, torch.Generator().manual_seed(8), cfg, active=_active(twin_graphs[:2], 3)
    )
    assert not torch.equal(other[0], draws[0][0])


def test_per_scene_generators_independent_of_batch(tiny_head, tiny_twin, twin_graphs):
    a, b = twin_graphs[0], twin_graphs[1]
    cfg = SamplerConfig(kind="ddpm", steps=8)
    both = tiny_head.sample(
        tiny_twin,
        Batch.from_data_list([a, b]),
        2,
        [torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)],
        cfg,
        active=_active([a, b], 2),
    )
    alone = tiny_head.sample(
        tiny_twin,
        Batch.from_data_list([a]),
        2,
        [torch.Generator().manual_seed(1)],
        cfg,
        active=_active([a], 2),
    )
    n_a, c_a = a["ue"].num_nodes, a["cell"].num_nodes
    assert torch.allclose(both[0][:, :n_a], alone[0], atol=1e-4)
    assert torch.allclose(both[1][:, :c_a], alone[1], atol=1e-4)
    with pytest.raises(ValueError, match="generators"):
        tiny_head.sample(
            tiny_twin,
            Batch.from_data_list([a, b]),
            2,
            [torch.Generator()],
            cfg,
            active=_active([a, b], 2),
        )


def test_guidance_w0_w1_and_cfg(tiny_head, tiny_twin, twin_graphs):
    b = Batch.from_data_list(twin_graphs[:1])
    cond = conditioning(tiny_twin.model, b)
    n_s, act = 2, _active(twin_graphs[:1], 2)
    g = torch.Generator().manual_seed(0)
    x = (
        torch.randn(n_s, cond.n_ues, 3, generator=g),
        torch.randn(n_s, cond.n_cells, 2, generator=g),
    )
    lam = torch.tensor(0.5)
    ei, ea = replicate_edges(
        cond.edge_index, cond.edge_attr, {"ue": cond.n_ues, "cell": cond.n_cells}, n_s
    )
    c_ue = tiny_head.ue_condition(cond, act)
    c_cell = cond.cell.repeat(n_s, 1)
    nu, nc = n_s * cond.n_ues, n_s * cond.n_cells

    def direct(drop):
        with torch.no_grad():
            vu, vc = tiny_head.denoiser(
                x[0].reshape(-1, 3),
                x[1].reshape(-1, 2),
                lam.expand(nu),
                lam.expand(nc),
                c_ue,
                c_cell,
                ei,
                ea,
                torch.full((nu,), drop),
                torch.full((nc,), drop),
            )
        return vu.reshape(x[0].shape), vc.reshape(x[1].shape)

    v_c, v_u = direct(False), direct(True)
    with torch.no_grad():
        f1 = tiny_head.model_fn(cond, n_s, 1.0, act)(x, lam)
        f0 = tiny_head.model_fn(cond, n_s, 0.0, act)(x, lam)
        f2 = tiny_head.model_fn(cond, n_s, 2.5, act)(x, lam)
    assert torch.allclose(f1[0], v_c[0], atol=1e-5) and torch.allclose(f1[1], v_c[1], atol=1e-5)
    assert torch.allclose(f0[0], v_u[0], atol=1e-5) and torch.allclose(f0[1], v_u[1], atol=1e-5)
    assert not torch.allclose(v_c[0], v_u[0])
    want = v_u[0] + 2.5 * (v_c[0] - v_u[0])
    assert torch.allclose(f2[0], want, atol=1e-4)


@pytest.mark.parametrize(
    "kind,steps,gauss_ok",
    [
        ("ddpm", 64, True),
        ("ddim", 64, True),
        ("dpmpp2m", 8, True),
        ("ddim", 8, False),
        ("dpmpp2m", 3, False),
        ("dpmpp2m-sde", 8, True),  # std 1.017 (the ODE solver: 0.966)
        ("dpmpp2m-sde", 3, False),
    ],
)
def test_exact_denoisers_recover_the_data(kind, steps, gauss_ok):
    """Analytic v of two data laws: a point mass at c and N(0, I).

    Deterministic solvers with few steps shrink the spread of a wide law (DDIM's step with
    v = 0 multiplies x by cos Δφ < 1): 8-step DDIM gives std 0.86 instead of 1. The SDE
    solver re-injects noise: at 8 steps it keeps the spread, at 3 it does not either.
    """
    sch = CosineSchedule()
    c = torch.tensor([1.5, -0.5, 0.25])

    def point(x, lam):  # x_0 = c exactly: v = (α x_t − c) / σ
        a, s = alpha_sigma(lam)
        return tuple((a * xi - c[: xi.shape[-1]]) / s for xi in x)

    def gauss(x, lam):  # x_0 ~ N(0, I): E[x_0 | x_t] = α x_t, E[ε | x_t] = σ x_t, v = 0
        return tuple(torch.zeros_like(xi) for xi in x)

    cfg = SamplerConfig(kind=kind, steps=steps, clip_x0=None)
    g = torch.Generator().manual_seed(0)
    (xp,) = sample(point, [(4000, 1, 3)], sch, cfg, g)
    assert torch.allclose(xp.mean((0, 1)), c, atol=1e-3) and xp.std(0).max() < 1e-2
    (xg,) = sample(gauss, [(4000, 1, 3)], sch, cfg, g)
    assert abs(float(xg.mean())) < 0.05
    assert (abs(float(xg.std()) - 1.0) < 0.05) == gauss_ok


@pytest.mark.parametrize(
    "kw",
    [
        {"kind": "euler"},
        {"steps": 0},
        {"spacing": "karras"},
        {"clip_x0": -1.0},
        {"guidance": float("nan")},
    ],
)
def test_invalid_sampler_config(kw):
    with pytest.raises(ValueError, match="must"):
        SamplerConfig(**kw)
