"""Comparing rankings computed by different matrix shapes.

A score computed in a block of queries or quotes and the same score computed on its own may
differ in the last bits: BLAS sums the products in an order that depends on the CPU's kernel
and the block's shape (OpenBLAS on an AMD EPYC differs where one on the machine these tests
were first written on did not). Rankings are then equal within float32 rounding: the same
scores within ``tol``, the same ids in the same order except among quotes whose scores are
themselves within ``tol`` of each other; and a run of such near-ties that the list's end cuts
may keep different members of the run (which of two equal quotes reaches a top k is then a
matter of rounding).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TOL = 1e-5


def assert_same_ranking(got: Sequence[tuple[int, float]], want: Sequence[tuple[int, float]],
                        tol: float = TOL) -> None:
    """``got`` and ``want`` (``(id, score)`` best first) agree within float32 rounding."""
    assert len(got) == len(want), (len(got), len(want))
    g = np.array([s for _, s in got], dtype=np.float64)
    w = np.array([s for _, s in want], dtype=np.float64)
    assert np.allclose(g, w, rtol=0.0, atol=tol), np.abs(g - w).max()
    start = 0
    while start < len(want):  # runs of near-ties may come in either order
        end = start + 1
        while end < len(want) and abs(w[end - 1] - w[end]) <= 2 * tol:
            end += 1
        if end < len(want):  # the last run may be cut by k: its members are not compared
            assert sorted(i for i, _ in got[start:end]) == sorted(
                i for i, _ in want[start:end]), (start, got[start:end], want[start:end])
        start = end
