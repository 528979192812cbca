"""The ``rantwin`` command line (``rantwin --help``)."""
