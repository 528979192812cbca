import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from rantwin.datasets import validate_dataset
from rantwin.datasets.manifest import sha256_file

SHARD = "w00001-e0000"


def rewrite(ds: Path, table: str, edit, update_sha: bool = True) -> None:
    """Replace one shard table by edit(table) and (by default) keep the manifest's sha256."""
    rel = f"{table}/{SHARD}.parquet"
    t = edit(pq.read_table(ds / rel))
    pq.write_table(t, ds / rel)
    if update_sha:
        m = json.loads((ds / "manifest.json").read_text())
        m["shards"][SHARD]["sha256"][rel] = sha256_file(ds / rel)
        m["shards"][SHARD]["rows"][table] = t.num_rows
        (ds / "manifest.json").write_text(json.dumps(m))


def set_value(column: str, value, row: int = 0):
    def edit(t: pa.Table) -> pa.Table:
        i = t.schema.get_field_index(column)
        v = t.column(column).to_numpy().copy()
        v[row] = value
        return t.set_column(i, t.schema.field(i), pa.array(v, t.schema.field(i).type))

    return edit


def only(problems: list[str], needle: str) -> None:
    assert problems, "expected problems"
    assert any(needle in p for p in problems), problems


def test_valid_dataset_has_no_problems(dataset):
    assert validate_dataset(dataset) == []


def test_flipped_byte_is_a_sha_mismatch(dataset):
    f = dataset / "ues" / f"{SHARD}.parquet"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))
    only(validate_dataset(dataset), f"ues/{SHARD}.parquet: sha256 mismatch")


def test_deleted_files_are_reported(dataset):
    (dataset / "cells" / f"{SHARD}.parquet").unlink()
    (dataset / "worlds" / "00000.json").unlink()
    problems = validate_dataset(dataset)
    only(problems, f"cells/{SHARD}.parquet: missing")
    only(problems, "worlds/00000.json: missing")


def test_missing_or_bad_manifest(tmp_path, dataset):
    assert validate_dataset(tmp_path / "nope") == [f"{str(tmp_path / 'nope')!r} is not a directory"]
    (tmp_path / "empty").mkdir()
    only(validate_dataset(tmp_path / "empty"), "manifest.json: missing")
    (dataset / "manifest.json").write_text("{not json")
    only(validate_dataset(dataset), "manifest.json: not valid JSON")


def test_schema_version_and_unfinished_run(dataset):
    m = json.loads((dataset / "manifest.json").read_text())
    m["schema_version"] = 3
    m["complete"] = False
    m["run_config"]["seed"] = 99
    (dataset / "manifest.json").write_text(json.dumps(m))
    problems = validate_dataset(dataset)
    only(problems, "schema_version 3 does not match")
    only(problems, "was not finalized")
    only(problems, "run_config_hash does not match")


@pytest.mark.parametrize(
    ("table", "column", "value", "needle"),
    [
        ("cells", "throughput_mbps", np.nan, "'throughput_mbps' has 1 NaN/inf"),
        ("ue_tti", "sinr_db", np.inf, "'sinr_db' has 1 NaN/inf"),
        ("cells", "prb_util", 1.2, r"'prb_util' has 1 values outside [0, 1]"),
        ("ues", "sinr_db", -70.0, r"'sinr_db' has 1 values outside [-50, 60]"),
        ("ues", "rsrp_dbm", 3.0, r"'rsrp_dbm' has 1 values outside [-200, 0]"),
        ("cells", "energy_w", -1.0, "'energy_w' has 1 values outside >= 0"),
        ("ues", "handovers", -2, "'handovers' has 1 values outside >= 0"),
        ("ues", "serving_cell", 7, "'serving_cell' has 1 values >= n_cells 3"),
        ("ues", "serving_cell", -1, "'serving_cell' has 1 values outside >= 0"),
        ("cells", "episode", 3, "must equal the shard's episode 0"),
    ],
)
def test_bad_values_are_reported(dataset, table, column, value, needle):
    rewrite(dataset, table, set_value(column, value))
    problems = validate_dataset(dataset)
    only(problems, f"{SHARD}/{table}: column {column!r}" if "n_cells" not in needle else needle)
    only(problems, needle)


def test_walk_must_start_where_the_previous_step_ended(dataset):
    # row 4 is (step 1, ue 0): its walk must start at (step 0, ue 0)'s end position
    rewrite(dataset, "ues", set_value("x_start_m", 999.0, row=4))
    only(
        validate_dataset(dataset),
        f"{SHARD}/ues: 1 rows whose walk does not start where the UE ended the previous step "
        "(first: step 1, ue 0: start (999.0,",
    )


def test_version_1_datasets_are_refused_with_the_upgrade_hint(dataset):
    from rantwin.datasets import open_dataset

    m = json.loads((dataset / "manifest.json").read_text())
    m["schema_version"] = 1
    (dataset / "manifest.json").write_text(json.dumps(m))
    only(validate_dataset(dataset), "added the ues columns x_start_m / y_start_m")
    with pytest.raises(ValueError, match="has schema_version 1, .*regenerate the dataset"):
        open_dataset(dataset)


def test_duplicate_keys_and_row_count(dataset):
    rewrite(dataset, "ues", lambda t: pa.concat_tables([t, t.slice(0, 2)]))
    only(validate_dataset(dataset), f"{SHARD}/ues: 2 duplicate keys (world, episode, step, ue)")
    rewrite(dataset, "cells", lambda t: t.slice(0, 5), update_sha=False)
    problems = validate_dataset(dataset)
    only(problems, f"cells/{SHARD}.parquet: 5 rows, manifest says 9")
    only(problems, f"cells/{SHARD}.parquet: sha256 mismatch")


def test_steps_not_contiguous_and_dangling_ue_tti(dataset):
    rewrite(dataset, "cells", lambda t: t.filter(pc.not_equal(t.column("step"), 1)))
    problems = validate_dataset(dataset)
    only(problems, f"{SHARD}/cells: steps are not contiguous")
    only(problems, f"{SHARD}/ues: 4 rows at steps without cells rows")
    rewrite(dataset, "ues", lambda t: t.filter(pc.not_equal(t.column("ue"), 2)))
    only(validate_dataset(dataset), f"{SHARD}/ue_tti: 6 rows reference (step, ue)")


def test_column_mismatches(dataset):
    rewrite(
        dataset,
        "cells",
        lambda t: t.drop_columns(["cio_db"]).append_column(
            "colour", pa.array(np.zeros(t.num_rows))
        ),
    )
    rewrite(
        dataset,
        "ues",
        lambda t: t.set_column(
            t.schema.get_field_index("step"), "step", t.column("step").cast(pa.int64())
        ),
    )
    problems = validate_dataset(dataset)
    only(problems, f"{SHARD}/cells: missing column(s) ['cio_db']")
    only(problems, f"{SHARD}/cells: unexpected column(s) ['colour']")
    only(problems, f"{SHARD}/ues: column 'step' has dtype int64, schema says int32")


def test_orphans_and_missing_world_reference(dataset):
    (dataset / "cells" / "w00009-e0000.parquet.tmp").write_bytes(b"x")
    (dataset / "ues" / "w00009-e0000.parquet").write_bytes(b"x")
    m = json.loads((dataset / "manifest.json").read_text())
    del m["worlds"]["1"]
    (dataset / "manifest.json").write_text(json.dumps(m))
    problems = validate_dataset(dataset)
    only(problems, "cells/w00009-e0000.parquet.tmp: orphan temporary file")
    only(problems, "ues/w00009-e0000.parquet: file not listed in the manifest")
    only(problems, "world 1 is referenced by shards but not listed")
    only(problems, "worlds/00001.json: file not listed in the manifest")


def test_reports_every_problem_not_just_the_first(dataset):
    rewrite(dataset, "cells", set_value("prb_util", 2.0))
    rewrite(dataset, "ues", set_value("sinr_db", np.nan))
    (dataset / "ue_tti" / "w00000-e0001.parquet").unlink()
    problems = validate_dataset(dataset)
    assert len(problems) >= 3
    only(problems, "prb_util")
    only(problems, "NaN/inf")
    only(problems, "ue_tti/w00000-e0001.parquet: missing")
