"""Benchmarks (``python -m rantwin.bench.<name>``); they import everything, nothing imports them."""
