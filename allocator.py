"""Process-level memory allocator tuning for large, short-lived tensors (glibc only).

Why: a batched twin step allocates and frees tens of megabytes of per-edge tensors (B = 64
scenes of ``hex7-uma`` have ~100k message-passing edges × 64 channels per relation). glibc
serves blocks above its mmap threshold (at most 32 MiB) with ``mmap`` and gives them back
with ``munmap`` on free, and returns freed memory at the top of the heap to the kernel once
it exceeds the trim threshold; every later allocation then page-faults fresh zeroed pages.
On the 2-core CI-class machines this project is measured on, that kernel work costs more
than the arithmetic: the twin's B = 64 call of ``hex7-uma`` took 0.27–4.9 s (the worse the
busier the machine) and 0.15 s with the tuning below, and B = 256 went from 1.4–1.7 s to
0.7 s (``bench/surrogate.py``, 2026-11-25).

What :func:`tune_allocator` does, through ``mallopt(3)``:

- ``M_MMAP_MAX = 0``: large blocks come from the heap (``brk``) like small ones;
- ``M_TRIM_THRESHOLD = 1 GiB``: freed memory stays in the process for reuse.

The cost: the process keeps up to 1 GiB of freed heap instead of handing it back, and the
resident size stays at its high-water mark. Results are unaffected (only where memory comes
from changes). Set ``RANTWIN_MALLOC=system`` to keep the C library's defaults. On a C
library other than glibc, or where ``mallopt`` is missing, nothing happens.

:class:`rantwin.surrogate.twin.Twin` calls it when a twin is created (so every env, rollout
and benchmark on the twin gets it), as does the ``rantwin`` command line.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import platform

#: ``mallopt`` parameters (glibc ``malloc.h``).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
#: Freed memory kept by the process before it is returned to the kernel, bytes.
TRIM_THRESHOLD_BYTES = 1 << 30


@functools.cache
def tune_allocator() -> bool:
    """Tune glibc malloc once per process (see the module docstring); idempotent.

    **Output:** ``True`` if the tuning is in force (now or from an earlier call), ``False``
    if it was skipped (``RANTWIN_MALLOC=system``, not glibc, or ``mallopt`` refused).

    Raises:
        ValueError: if ``RANTWIN_MALLOC`` is set to something other than ``tuned`` or
            ``system``.
    """
    choice = os.environ.get("RANTWIN_MALLOC", "tuned")
    if choice not in ("tuned", "system"):
        raise ValueError(f"RANTWIN_MALLOC must be 'tuned' or 'system', got {choice!r}")
    applied = False
    if choice == "tuned" and platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        path = ctypes.util.find_library("c")
        if path is not None:
            mallopt = getattr(ctypes.CDLL(path), "mallopt", None)
            if mallopt is not None:
                ok_mmap = mallopt(_M_MMAP_MAX, 0)
                ok_trim = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
                applied = bool(ok_mmap) and bool(ok_trim)
    return applied
