import ast
from pathlib import Path

import pyarrow as pa
import pytest

from rantwin.datasets import KEYS, SCHEMA_VERSION, SCHEMAS, TABLES, parse_shard_id, shard_id
from rantwin.datasets.schema import schema_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_schema_version_and_tables():
    assert SCHEMA_VERSION == 2
    assert list(SCHEMAS) == ["cells", "ues", "ue_tti"]
    assert SCHEMAS["cells"].field("prb_util").type == pa.float32()
    assert SCHEMAS["cells"].field("sleep").type == pa.bool_()
    assert SCHEMAS["ues"].field("serving_cell").type == pa.int32()
    assert SCHEMAS["ue_tti"].names == [
        "world",
        "episode",
        "step",
        "ue",
        "tti",
        "sinr_db",
        "throughput_mbps",
    ]
    assert KEYS["ue_tti"] == ("world", "episode", "step", "ue", "tti")
    for spec in TABLES.values():
        assert spec.column_names[:3] == ("world", "episode", "step")
        for c in spec.columns:
            assert c.unit and c.description


def test_shard_id_round_trip_and_errors():
    assert shard_id(12, 3) == "w00012-e0003"
    assert parse_shard_id("w00012-e0003") == (12, 3)
    with pytest.raises(ValueError, match="episode"):
        shard_id(0, 10_000)
    with pytest.raises(ValueError, match="world"):
        shard_id(-1, 0)
    with pytest.raises(ValueError, match="shard id"):
        parse_shard_id("w12-e3")


def test_docs_list_every_column_of_the_schema():
    doc = (ROOT / "docs" / "dataset-schema.md").read_text()
    for name in TABLES:
        assert schema_markdown(name) in doc, f"docs/dataset-schema.md is stale for {name!r}"


def test_datasets_imports_only_allowed_modules():
    allowed = {
        "numpy",
        "pyarrow",
        "json",
        "hashlib",
        "os",
        "pathlib",
        "dataclasses",
        "__future__",
        "collections",
        "typing",
        "types",
        "datetime",
        "re",
    }
    for f in (ROOT / "datasets").glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                mods = [node.module or ""]
            else:
                continue
            for m in mods:
                assert m.split(".")[0] in allowed, f"{f.name} imports {m}"


def test_by_hand_example_in_docs_writes_a_valid_dataset(tmp_path, monkeypatch):
    from rantwin.datasets import open_dataset, validate_dataset

    doc = (ROOT / "docs" / "dataset-schema.md").read_text()
    section = doc.split("## Writing a dataset by hand", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "dataset-schema.md", "exec"), {})
    assert validate_dataset(tmp_path / "my-dataset") == []
    ds = open_dataset(tmp_path / "my-dataset")
    assert ds.rows("cells") == 4 and ds.table("ues").num_rows == 2
    assert ds.worlds() == {0: {"name": "my-site-cluster", "n_cells": 2}}
