"""The default-twin build and the ablations read the same training datasets."""

from pathlib import Path

from rantwin.bench.default_twin import (
    SCENARIO_HOURS,
    TRAIN_FAMILIES,
    TRAIN_SCENARIOS,
    scenario_data_dir,
    train_data_dirs,
)


def test_training_data_dirs_of_both_recipes():
    work = Path("w")
    day = train_data_dirs(work, whole_day=True)
    assert len(day) == len(TRAIN_FAMILIES) + len(TRAIN_SCENARIOS) * len(SCENARIO_HOURS)
    assert Path("w/data/hex7-uma-h12x4") in day and Path("w/data/uma-irregular") in day
    night = train_data_dirs(work, whole_day=False)
    assert night[-len(TRAIN_SCENARIOS) :] == [work / "data" / n for n in TRAIN_SCENARIOS]
    assert scenario_data_dir(work, "hex7-uma", 6) == Path("w/data/hex7-uma-h06x4")
