import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from dataset_helpers import RUN_CONFIG, make_tables, scenario, write_dataset

from rantwin.datasets import (
    SCHEMAS,
    DatasetExistsError,
    DatasetWriter,
    NotADatasetError,
    open_dataset,
    validate_dataset,
)


def test_round_trip_write_read_equality(tmp_path):
    out = write_dataset(tmp_path / "ds", n_worlds=2, n_episodes=2)
    ds = open_dataset(out)
    assert ds.complete
    assert ds.shard_ids == ("w00000-e0000", "w00000-e0001", "w00001-e0000", "w00001-e0001")
    assert ds.run_config == RUN_CONFIG
    assert ds.worlds() == {0: scenario(0)[0], 1: scenario(1)[0]}
    m = ds.manifest
    assert m["schema_version"] == 2 and m["format"] == "rantwin-dataset"
    assert m["worlds"]["1"] == {"path": "worlds/00001.json", "scenario_hash": "hash-1"}
    assert m["extra"] == {"note": "test"}
    for name in SCHEMAS:
        t = ds.table(name)
        assert t.schema.equals(SCHEMAS[name])
        expected = [make_tables(w, e)[name] for w in range(2) for e in range(2)]
        assert t.num_rows == ds.rows(name) == sum(len(x["step"]) for x in expected)
        assert m["totals"]["rows"][name] == t.num_rows
        for col in SCHEMAS[name].names:
            want = np.concatenate([x[col] for x in expected]).astype(
                SCHEMAS[name].field(col).type.to_pandas_dtype()
            )
            np.testing.assert_array_equal(t.column(col).to_numpy(), want)
    assert validate_dataset(out) == []


def test_table_columns_and_filter_worlds(dataset):
    ds = open_dataset(dataset)
    t = ds.table("ues", columns=["world", "sinr_db"], filter_worlds=[1])
    assert t.column_names == ["world", "sinr_db"]
    assert set(t.column("world").to_pylist()) == {1}
    assert t.schema.field("sinr_db").type == pa.float32()
    assert ds.table("cells", filter_worlds=[]).num_rows == 0
    with pytest.raises(ValueError, match="no column"):
        ds.table("ues", columns=["nope"])
    with pytest.raises(ValueError, match="table must be one of"):
        ds.table("users")
    with pytest.raises(ValueError, match=r"world id\(s\) \[7\]"):
        ds.table("cells", filter_worlds=[7])


def test_ue_tti_may_be_omitted(tmp_path):
    w = DatasetWriter(tmp_path / "ds", RUN_CONFIG)
    w.write_world(0, *scenario(0))
    tables = make_tables()
    del tables["ue_tti"]
    w.write_shard(0, 0, tables)
    w.finalize()
    assert open_dataset(tmp_path / "ds").table("ue_tti").num_rows == 0
    assert validate_dataset(tmp_path / "ds") == []


def test_world_and_episode_columns_are_filled_when_absent(tmp_path):
    w = DatasetWriter(tmp_path / "ds", RUN_CONFIG)
    w.write_world(3, *scenario(3))
    tables = make_tables(3, 2)
    for t in tables.values():
        del t["world"], t["episode"]
    w.write_shard(3, 2, tables)
    cells = open_dataset(tmp_path / "ds").table("cells")
    assert set(cells.column("world").to_pylist()) == {3}
    assert set(cells.column("episode").to_pylist()) == {2}


def test_refuses_to_overwrite_existing_dataset(dataset):
    before = (dataset / "manifest.json").read_bytes()
    with pytest.raises(DatasetExistsError, match="--resume"):
        DatasetWriter(dataset, RUN_CONFIG)
    assert (dataset / "manifest.json").read_bytes() == before


def test_resume_with_different_run_config_names_the_keys(dataset):
    other = {**RUN_CONFIG, "seed": 8, "sim": {"tti_ms": 0.5}}
    with pytest.raises(DatasetExistsError, match=r"\['seed', 'sim.tti_ms'\]"):
        DatasetWriter(dataset, other, resume=True)


def test_non_dataset_dir_is_never_written(tmp_path):
    d = tmp_path / "photos"
    d.mkdir()
    (d / "cat.jpg").write_bytes(b"meow")
    for resume in (False, True):
        with pytest.raises(NotADatasetError, match="not a rantwin dataset"):
            DatasetWriter(d, RUN_CONFIG, resume=resume)
    assert sorted(p.name for p in d.iterdir()) == ["cat.jpg"]
    (d / "manifest.json").write_text('{"format": "something-else"}')
    with pytest.raises(NotADatasetError, match="format"):
        DatasetWriter(d, RUN_CONFIG, resume=True)
    with pytest.raises(NotADatasetError, match="not a rantwin dataset"):
        open_dataset(tmp_path)
    with pytest.raises(FileNotFoundError):
        open_dataset(tmp_path / "absent")


def test_empty_dir_and_fresh_resume_are_fine(tmp_path):
    (tmp_path / "empty").mkdir()
    DatasetWriter(tmp_path / "empty", RUN_CONFIG)
    DatasetWriter(tmp_path / "new" / "nested", RUN_CONFIG, resume=True)
    assert (tmp_path / "new" / "nested" / "manifest.json").is_file()


def test_resume_skips_completed_shards(tmp_path):
    out = write_dataset(tmp_path / "ds", n_worlds=1, n_episodes=2, finalize=False)
    w = DatasetWriter(out, RUN_CONFIG, resume=True)
    assert w.completed_shards() == {"w00000-e0000", "w00000-e0001"}
    mtime = (out / "cells" / "w00000-e0000.parquet").stat().st_mtime_ns
    w.write_world(0, *scenario(0))  # idempotent
    for ep in range(3):
        if f"w00000-e{ep:04d}" not in w.completed_shards():
            w.write_shard(0, ep, make_tables(0, ep))
    w.finalize()
    assert (out / "cells" / "w00000-e0000.parquet").stat().st_mtime_ns == mtime
    assert open_dataset(out).shard_ids == ("w00000-e0000", "w00000-e0001", "w00000-e0002")
    assert validate_dataset(out) == []


def test_resuming_a_complete_dataset_leaves_its_manifest_as_it_was(tmp_path, monkeypatch):
    """A twin's checkpoint names its data by the manifest's sha256: a rerun that adds
    nothing must not re-finalize it (a new timestamp made every build retrain)."""
    from rantwin.datasets import writer

    out = write_dataset(tmp_path / "ds", n_worlds=1, n_episodes=2)
    before = (out / "manifest.json").read_bytes()
    monkeypatch.setattr(writer, "_now", lambda: "2099-01-01T00:00:00+00:00")  # a later run
    with DatasetWriter(out, RUN_CONFIG, resume=True) as w:
        w.write_world(0, *scenario(0))  # the world again: a no-op
        assert w.completed_shards() == {"w00000-e0000", "w00000-e0001"}
    assert (out / "manifest.json").read_bytes() == before
    w = DatasetWriter(out, RUN_CONFIG, resume=True)
    w.write_shard(0, 2, make_tables(0, 2))  # new data: finalized afresh
    w.finalize()
    assert open_dataset(out).manifest["totals"]["shards"] == 3
    w = DatasetWriter(out, RUN_CONFIG, resume=True)
    w.write_world(1, *scenario(1))  # a new world alone is new data too
    w.finalize()
    assert open_dataset(out).manifest["totals"]["worlds"] == 2


def test_crash_between_parquet_and_manifest_is_rewritten_on_resume(tmp_path, monkeypatch):
    out = tmp_path / "ds"
    w = DatasetWriter(out, RUN_CONFIG)
    w.write_world(0, *scenario(0))
    w.write_shard(0, 0, make_tables(0, 0))

    def crash() -> None:
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(w, "_write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        w.write_shard(0, 1, make_tables(0, 1))
    # parquet files of e0001 are on disk, the manifest does not list them
    assert (out / "cells" / "w00000-e0001.parquet").is_file()
    assert set(json.loads((out / "manifest.json").read_text())["shards"]) == {"w00000-e0000"}
    assert any("not listed in the manifest" in p for p in validate_dataset(out))
    # and an interrupted parquet write left a temp file behind
    (out / "ues" / "w00000-e0002.parquet.tmp").write_bytes(b"half a file")

    w2 = DatasetWriter(out, RUN_CONFIG, resume=True)
    assert not list(out.rglob("*.tmp"))
    assert w2.completed_shards() == {"w00000-e0000"}
    w2.write_shard(0, 1, make_tables(0, 1))
    w2.finalize()
    ds = open_dataset(out)
    expected = sum(len(make_tables(0, e)["ues"]["step"]) for e in range(2))
    assert ds.table("ues").num_rows == expected
    assert validate_dataset(out) == []


def test_corrupt_shard_is_not_completed_and_is_rewritten(dataset):
    f = dataset / "cells" / "w00001-e0000.parquet"
    f.write_bytes(f.read_bytes()[:-10])
    w = DatasetWriter(dataset, RUN_CONFIG, resume=True)
    assert "w00001-e0000" not in w.completed_shards()
    assert len(w.completed_shards()) == 3
    w.write_shard(1, 0, make_tables(1, 0))
    w.finalize()
    assert validate_dataset(dataset) == []


def test_context_manager_finalizes_only_on_clean_exit(tmp_path):
    with DatasetWriter(tmp_path / "a", RUN_CONFIG) as w:
        w.write_world(0, *scenario(0))
        w.write_shard(0, 0, make_tables())
    assert open_dataset(tmp_path / "a").complete
    with pytest.raises(RuntimeError), DatasetWriter(tmp_path / "b", RUN_CONFIG) as w:
        w.write_world(0, *scenario(0))
        raise RuntimeError("boom")
    assert not open_dataset(tmp_path / "b").complete
    with pytest.raises(ValueError, match="after finalize"):
        w2 = DatasetWriter(tmp_path / "a", RUN_CONFIG, resume=True)
        w2.finalize()
        w2.write_shard(0, 1, make_tables(0, 1))


@pytest.fixture
def writer(tmp_path) -> DatasetWriter:
    w = DatasetWriter(tmp_path / "ds", RUN_CONFIG)
    w.write_world(0, *scenario(0))
    return w


def test_missing_column_error_names_table_and_column(writer):
    tables = make_tables()
    del tables["ues"]["sinr_db"]
    with pytest.raises(ValueError, match=r"table 'ues' is missing column\(s\) \['sinr_db'\]"):
        writer.write_shard(0, 0, tables)


def test_unexpected_column_error_names_it(writer):
    tables = make_tables()
    tables["cells"]["colour"] = np.zeros(9)
    with pytest.raises(ValueError, match=r"table 'cells' has unexpected column\(s\) \['colour'\]"):
        writer.write_shard(0, 0, tables)


@pytest.mark.parametrize(
    ("table", "column", "values", "match"),
    [
        ("cells", "n_served", np.full(9, 1.5), "must be int32, got dtype float64"),
        ("cells", "sleep", np.zeros(9, np.int64), "must be bool"),
        ("ues", "x_m", np.array(["a"] * 12), "must be float32"),
        ("cells", "step", np.full(9, 2**40), "outside the int32 range"),
        ("ues", "sinr_db", np.full(12, 1e300), "overflow float32"),
        ("cells", "cell", np.zeros((9, 1), np.int32), "1-D"),
        ("cells", "cio_db", np.zeros(8), "has 8 rows"),
    ],
)
def test_unsafe_cast_errors_name_table_column_problem(writer, table, column, values, match):
    tables = make_tables()
    tables[table][column] = values
    with pytest.raises(ValueError, match=match) as e:
        writer.write_shard(0, 0, tables)
    assert f"table {table!r} column {column!r}" in str(e.value)
    assert not (writer.path / "cells").exists()  # nothing written


@pytest.mark.parametrize(
    ("table", "column", "value", "match"),
    [
        ("cells", "prb_util", 1.5, r"'prb_util' has 1 values outside \[0, 1\]"),
        ("ues", "sinr_db", np.nan, "'sinr_db' has 1 NaN/inf"),
        ("ues", "serving_cell", 3, "'serving_cell' has 1 values >= n_cells 3"),
        ("cells", "world", 5, "must equal the shard's world 0"),
        ("ue_tti", "ue", 99, r"ue_tti: 1 rows reference \(step, ue\)"),
    ],
)
def test_invalid_values_are_refused(writer, table, column, value, match):
    tables = make_tables()
    tables[table][column] = tables[table][column].copy()
    tables[table][column][0] = value
    with pytest.raises(ValueError, match=match):
        writer.write_shard(0, 0, tables)


def test_duplicate_keys_and_gaps_are_refused(writer):
    tables = make_tables()
    tables["cells"]["cell"] = np.zeros(9, np.int32)
    with pytest.raises(ValueError, match=r"duplicate keys \(world, episode, step, cell\)"):
        writer.write_shard(0, 0, tables)
    tables = make_tables()
    tables["cells"]["step"] = tables["cells"]["step"] * 2
    tables["ues"]["step"] = tables["ues"]["step"] * 2
    tables["ue_tti"]["step"] = tables["ue_tti"]["step"] * 2
    with pytest.raises(ValueError, match="steps are not contiguous"):
        writer.write_shard(0, 0, tables)


def test_shard_requires_world_and_known_tables(tmp_path):
    w = DatasetWriter(tmp_path / "ds", RUN_CONFIG)
    with pytest.raises(ValueError, match=r"call write_world\(0"):
        w.write_shard(0, 0, make_tables())
    w.write_world(0, *scenario(0))
    with pytest.raises(ValueError, match="already written with scenario_hash"):
        w.write_world(0, {"other": 1}, "other-hash")
    with pytest.raises(ValueError, match=r"unknown table\(s\) \['cell'\]"):
        w.write_shard(0, 0, {**make_tables(), "cell": {}})
    with pytest.raises(ValueError, match=r"missing table\(s\) \['ues'\]"):
        w.write_shard(0, 0, {"cells": make_tables()["cells"]})
    with pytest.raises(ValueError, match="run_config must be JSON-serialisable"):
        DatasetWriter(tmp_path / "x", {"f": object()})


def test_atomic_files_no_tmp_left(dataset):
    assert not list(dataset.rglob("*.tmp"))
    assert sorted(os.listdir(dataset)) == ["cells", "manifest.json", "ue_tti", "ues", "worlds"]
    assert sorted(p.name for p in Path(dataset, "worlds").iterdir()) == [
        "00000.json",
        "00001.json",
    ]
