"""Opt-in ``torch.compile`` of the twin's hot paths: Φ, the graph's features, the network, the KPIs.

A batched twin step of 64 ``hex7-uma`` scenes spends about a third of its time in Φ
(:func:`.features.phi_links`: float64 elementwise path loss, antenna and SINR over
``[B, n_cells, n_ues]``) and most of the rest in the backbone (``TwinModel.embed``: per-edge
elementwise products, gathers and scatters of the message passing). Both are chains of
small elementwise kernels that TorchInductor fuses into a few loops. One scene is bound by
the cost of each operation, not by its arithmetic, so the step compiles as five graphs:

- Φ (:func:`.features.phi_tables`);
- the node features and edges (:func:`.graph.graph_tensors`: about a hundred small
  operations; the walk's crossings, with their data-dependent sizes, and the ``HeteroData``
  stay eager);
- the network (``TwinModel.draws``: backbone, prior, and every head of all ``S`` draws in
  one stack of rows);
- the quantile functions at the drawn levels (:func:`.quantiles.quantile_at`, one graph for
  the UE and the cell heads) and the KPIs in physical units (:func:`.kpis.kpi_fields`). The
  random numbers between the network and these are drawn eagerly, from the caller's
  generators, in the same order as an eager twin draws them.

Each is called through TorchInductor's C++ wrapper (``cpp_wrapper``, where Python's headers
are there to build it: :func:`_options`), which calls the kernels and matmuls from C++
instead of one interpreted call each.

Measured (``bench/surrogate.py``, 2 threads, eager and compiled in one run): 64
``hex7-uma`` scenes (13,440 UEs) per call 282 → 169 ms (47.7k → 79.7k UE-super-steps/s),
256 scenes 1.60× faster, one scene 1.09×. ``phi_links`` stays bitwise equal to eager (and
batch-invariant); the backbone agrees to about 2e-6 and is bitwise the same from call to
call.

Costs: the first calls compile (166 s for the sizes 1, 64 and 256 in that bench, once per
process; shapes are dynamic); TorchInductor's CPU backend needs a C++ compiler. Φ is
compiled on tensors (:class:`.features.PhiInputs`), so one dynamic graph serves every batch
size above 1: given the scene batch itself, dynamo guarded on the number of its configs and
recompiled Φ for each new size. Measured cold (2026-12-05, one process, sizes in this
order): B = 1 80 s, B = 64 69 s, then B = 256 0.4 s and B = 16, 3 nothing, against 8.3, 4.0
and 4.4 s before. The compiled backbone is not bitwise equal to the eager one (float32 sums
in another order), nor are a few compiled graph features (one float32 ulp of TorchInductor's
log10, sin and cos; the edges are the same), so a compiled and an eager twin give draws that
differ in the last bits: the same seed gives the same trajectory only between runs with the
same setting.

Φ is one graph. The radio functions' input checks and the path-loss validity warnings read
tensor values into Python, which cut the compiled Φ into about fifteen pieces (a compiled
one-scene Φ took 3.1 ms against 2.3 ms eager). They now do nothing while dynamo traces
(``radio._tensor.tracing``); the wrapper below checks and warns on the links after the call
(:func:`rantwin.radio.pathloss.warn_validity`, on the float32 distances: a link within 1e-7
of a validity bound may be judged on the other side of it). The antenna pattern takes its
branch from a Python count when every cell has the same (``ScenarioStatics.n_vertical_shared``;
a deployment with per-cell counts still branches on a tensor), and whether the config changed
since the previous super-step is read once, in :meth:`.features.PhiInputs.of` (dynamo
specialises on the two flags: up to three variants). A test with a counting backend fails if
Φ is cut again. Measured (2026-12-06, ``bench/surrogate``, 2 threads, old and new code
interleaved, two runs each): compiled one scene 14.2 / 12.5 → 9.4 / 10.0 ms (one-scene Φ alone
3.1 → 0.9 ms), 64 scenes 85k / 112k → 153k / 146k UE-super-steps/s, 256 scenes 143k / 151k →
161k / 158k; eager the same bits and speed.

Three graphs and the C++ wrapper (2026-12-06): the compiled backbone of one scene alone
3.4 → 1.7 ms with ``cpp_wrapper``; the whole compiled one-scene call (old code, the
backbone compiled with the Python wrapper, against this code; interleaved, two runs each,
median of 60 calls after a warm-up) 8.3 / 11.0 → **6.7 / 6.4 ms**, the batched calls
unchanged within this machine's noise (64 scenes 166k / 129k → 150k / 162k, 256 scenes
154k / 150k → 169k / 144k UE-super-steps/s). ``bench/surrogate`` after the change: one
scene 7.2 ms compiled, 16.6 ms eager (the simulator 0.22 s per super-step in that run).
The eager twin gives the same bits as before (hashes of graphs and of ensemble draws).

The quantile functions and the KPI fields (2026-12-06, about sixty small operations that
ran eagerly, the EARTH model's input checks among them): the compiled one-scene call, old
code and new interleaved, two runs each, median of 200 calls, 8.32 / 6.56 → **7.51 /
5.79 ms**. The eager twin's draws are bit for bit the same (hash of ensemble draws with one
generator, per-scene generators, per-TTI draws and a slow state). What is left is spread
thin (pyinstrument, which inflates the Python parts): the network's kernels about 2.2 ms,
dynamo's frames and guards 1.2 ms over the five calls (without the profiler the network's
guards alone are 0.3–0.5 ms: its ~150 parameters are guarded on every call), Φ 0.6 ms and
its validity checks 0.4 ms, the features 0.7 ms, the walk's crossings 0.5 ms, the
``HeteroData`` assembly 0.5 ms.
"""

from __future__ import annotations

import os
import shutil
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from rantwin.radio import pathloss

from .features import PhiInputs, PhiLinks, ScenarioStatics, SceneBatch, phi_links, phi_tables
from .graph import GraphTensors, graph_tensors
from .kpis import KpiFields, kpi_fields
from .model import DrawHeads, TwinModel
from .quantiles import quantile_at

_CPU = torch.device("cpu")


def _check_compiler() -> None:
    names = [os.environ["CXX"]] if os.environ.get("CXX") else ["g++", "c++", "clang++"]
    if not any(shutil.which(n) for n in names):
        raise ValueError(
            f"compile=True needs a C++ compiler for torch.compile's CPU backend "
            f"(looked for {', '.join(names)} on PATH); install one, or use compile=False"
        )


def _options(backend: Any, device: torch.device = _CPU) -> dict[str, Any] | None:
    """TorchInductor's options: its C++ wrapper on the CPU, where Python's headers are there.

    By default TorchInductor calls its kernels and the external matmuls from generated
    Python, one interpreted call each; the backbone of one scene is about eighty small
    calls, so that wrapper costs as much as the arithmetic. ``cpp_wrapper`` generates the
    same calls in C++ (a Python extension module, hence the headers). Only on the CPU,
    where it was measured: a GPU twin keeps the default wrapper.
    """
    if backend != "inductor" or device.type != "cpu":
        return None  # TorchInductor's options, measured on the CPU (a test backend takes none)
    include = sysconfig.get_paths().get("include")
    if not include or not os.path.exists(os.path.join(include, "Python.h")):
        return None  # no headers: the Python wrapper, slower but the same kernels
    return {"cpp_wrapper": True}


@dataclass(frozen=True)
class TwinPaths:
    """The functions a twin calls for Φ and for its backbone (compiled or eager).

    Attributes:
        phi: ``(statics, scenes) -> PhiLinks`` (:func:`.features.phi_links`).
        graph: ``(statics, scene tensors, Φ, walks, k) -> GraphTensors`` (the node features
            and edges, :func:`.graph.graph_tensors`).
        draws: ``(graph, eps, n_scenes) -> DrawHeads`` (``TwinModel.draws``: the backbone,
            the prior and every head).
        quantile: ``(quantiles, levels) -> values`` (:func:`.quantiles.quantile_at`).
        kpis: ``(draws, ...) -> KpiFields`` (:func:`.kpis.kpi_fields`: the draws in
            physical units).
        compiled: Whether they are ``torch.compile`` wrappers.
    """

    phi: Callable[[ScenarioStatics, SceneBatch], PhiLinks]
    graph: Callable[..., GraphTensors]
    draws: Callable[[Any, torch.Tensor, int], DrawHeads]
    quantile: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    kpis: Callable[..., KpiFields]
    compiled: bool


def twin_paths(model: TwinModel, compile: bool, backend: Any = "inductor") -> TwinPaths:
    """Eager paths, or ``torch.compile(..., dynamic=True)`` wrappers of them.

    Args:
        model: The twin's network (its ``draws`` is the network's path; its device picks the
            compile options).
        compile: Compile (``True``) or keep eager.
        backend: ``torch.compile``'s backend (TorchInductor; tests pass a counting backend).

    Raises:
        ValueError: ``compile=True`` with TorchInductor and no C++ compiler on PATH.
    """
    draws = model.draws
    if not compile:
        return TwinPaths(phi_links, graph_tensors, draws, quantile_at, kpi_fields, False)
    if backend == "inductor":
        _check_compiler()
    # Φ is compiled on tensors only (PhiInputs): given the SceneBatch with its B configs,
    # dynamo would guard on their number and recompile for every new batch size
    opts = _options(backend, next(model.parameters()).device)
    tables = torch.compile(phi_tables, dynamic=True, backend=backend, options=opts)

    def phi(st: ScenarioStatics, scenes: SceneBatch) -> PhiLinks:
        links = tables(st, PhiInputs.of(scenes))
        # the checks and the validity warning of the path loss, which do nothing while
        # dynamo traces (they would cut the graph): on the links' (float32) distances
        prop = st.scenario.propagation
        # (the statics as float32 too: float64 ones would promote a copy of every distance)
        pathloss.warn_validity(
            prop.model, links.distance_2d_m, st.carrier_ghz[:, None].float(),
            st.cell_h_m[:, None].float(), prop.ue_height_m,
        )  # fmt: skip
        return links

    graph = torch.compile(graph_tensors, dynamic=True, backend=backend, options=opts)
    net = torch.compile(draws, dynamic=True, backend=backend, options=opts)
    quantile = torch.compile(quantile_at, dynamic=True, backend=backend, options=opts)
    kpis = torch.compile(kpi_fields, dynamic=True, backend=backend, options=opts)
    return TwinPaths(phi, graph, net, quantile, kpis, True)
