import copy

import pytest
import torch

from rantwin.surrogate.diffusion.distill import DistillArgs, distill_stage


def test_one_stage_runs_and_changes_the_student(tiny_head, twin_graphs):
    teacher = copy.deepcopy(tiny_head)
    args = DistillArgs(iters=4, batch_size=2, lr=1e-3)
    student, losses = distill_stage(
        teacher, twin_graphs[:4], 2, args, torch.Generator().manual_seed(0), progress=False
    )
    assert len(losses) == 4 and all(torch.isfinite(torch.tensor(losses)))
    changed = any(
        not torch.equal(a, b)
        for a, b in zip(student.denoiser.parameters(), tiny_head.denoiser.parameters(), strict=True)
    )
    assert changed
    for a, b in zip(teacher.denoiser.parameters(), tiny_head.denoiser.parameters(), strict=True):
        assert torch.equal(a, b)  # the teacher is not trained


@pytest.mark.parametrize("kw", [{"steps": (4, 8)}, {"steps": (0,)}, {"iters": 0}])
def test_invalid_args(kw):
    with pytest.raises(ValueError, match="must be"):
        DistillArgs(**kw)
