import torch

from rantwin.surrogate.diffusion.train import TrainArgs, diffusion_loss, train_diffusion


def test_tiny_training_run_lowers_the_loss(tiny_twin, twin_graphs):
    tr, va = twin_graphs[:4], twin_graphs[4:]
    args = TrainArgs(hidden=16, n_layers=1, heads=1, epochs=3, batch_size=2, lr=3e-3)
    res = train_diffusion(tiny_twin, tr, va, args, progress=False)
    assert res.epochs_run == 3 and res.best_val < float("inf")
    # fixed batch and noise: optimising lowers that batch's loss
    from torch_geometric.data import Batch

    batch = Batch.from_data_list(tr)
    head = res.head.train()
    opt = torch.optim.Adam(head.parameters(), lr=3e-3)

    def loss():
        return diffusion_loss(head, batch, torch.Generator().manual_seed(0), 0.0)

    first = float(loss().detach())
    for _ in range(25):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert float(loss().detach()) < 0.9 * first


def test_masks_exclude_invalid_entries(tiny_head, twin_graphs):
    """Changing the target of a masked entry (inactive UE throughput) leaves the loss as is."""
    from torch_geometric.data import Batch

    b = Batch.from_data_list(twin_graphs[:2])
    with torch.no_grad():
        ref = float(diffusion_loss(tiny_head, b, torch.Generator().manual_seed(0), 0.0))
    masked = ~b["ue"].y_mask[:, 2]
    assert masked.any()
    b["ue"].y = b["ue"].y.clone()
    b["ue"].y[masked, 2] = 100.0
    with torch.no_grad():
        got = float(diffusion_loss(tiny_head, b, torch.Generator().manual_seed(0), 0.0))
    assert got == ref
