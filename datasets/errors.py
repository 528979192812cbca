"""Errors raised by :mod:`rantwin.datasets`."""

from __future__ import annotations


class DatasetExistsError(ValueError):
    """The output directory already holds a dataset that must not be overwritten.

    Raised by :class:`~rantwin.datasets.writer.DatasetWriter` when ``resume=False`` and the
    directory holds a dataset, or when ``resume=True`` and the dataset was written with a
    different run configuration or schema version.
    """


class NotADatasetError(ValueError):
    """A directory is not a rantwin dataset (no or unreadable ``manifest.json``)."""
