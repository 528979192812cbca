"""rantwin.datasets: simulator reports on disk (sharded Parquet + a JSON manifest).

The boundary between the simulator (teacher) and the surrogate (student): the simulator
writes with :class:`DatasetWriter`, the surrogate reads with :func:`open_dataset`, and a user
can bring logs of their own simulator in the same schema (``docs/dataset-schema.md``).
This package imports neither the simulator nor the surrogate.
"""

from .errors import DatasetExistsError, NotADatasetError
from .reader import Dataset, open_dataset
from .schema import (
    FORMAT,
    KEYS,
    SCHEMA_VERSION,
    SCHEMAS,
    TABLE_NAMES,
    TABLES,
    Column,
    TableSpec,
    parse_shard_id,
    shard_id,
)
from .validate import validate_dataset
from .writer import DatasetWriter

__all__ = [
    "FORMAT",
    "KEYS",
    "SCHEMAS",
    "SCHEMA_VERSION",
    "TABLES",
    "TABLE_NAMES",
    "Column",
    "Dataset",
    "DatasetExistsError",
    "DatasetWriter",
    "NotADatasetError",
    "TableSpec",
    "open_dataset",
    "parse_shard_id",
    "shard_id",
    "validate_dataset",
]
