"""Early stopping keeps the best weights; the CSV log writes a header and every row."""

from __future__ import annotations

import csv

import pytest
import torch
from torch import nn

from rantwin.surrogate.training_log import CsvLog, EarlyStopping


def test_early_stopping_keeps_best_weights_and_counts_patience():
    m = nn.Linear(2, 1)
    es = EarlyStopping(patience=2)
    assert not es.update(1.0, m)
    best = {k: v.clone() for k, v in m.state_dict().items()}
    with torch.no_grad():
        m.weight.add_(1.0)
    assert not es.update(1.5, m)  # one bad epoch
    # not better by more than min_delta: the second bad epoch, so stop
    assert es.update(0.99995, m) and es.bad == 2 and es.best == 1.0
    es.restore(m)
    assert all(torch.equal(m.state_dict()[k], v) for k, v in best.items())
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(0)


def test_csv_log(tmp_path):
    path = tmp_path / "m.csv"
    with CsvLog(path) as log:
        log.write({"epoch": 0, "loss": 1.5})
        log.write({"epoch": 1, "loss": 1.25})
    rows = list(csv.DictReader(path.open()))
    assert rows == [{"epoch": "0", "loss": "1.5"}, {"epoch": "1", "loss": "1.25"}]
    with CsvLog(None) as log:  # no file, no error
        log.write({"a": 1})
