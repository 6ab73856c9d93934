"""NumPy's BLAS threads in the serving process.

A search multiplies small matrices (the ranking's pool) and one large matrix-vector product
(the scan of a team's vectors). With BLAS's own threads (one per core by default), each call
from the search pool's workers fans out over every core and its threads spin while they wait:
on a busy 2-core machine that multiplied the ranking's smoothing time several times over
(bench/PERF.md). `voicebot serve` keeps BLAS at one thread per call, as it does ONNX Runtime;
a scan is split over ``VOICEBOT_SCAN_THREADS`` of the index's own threads instead
(:class:`store.retrieval.index.SplitScanner`).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def limit_blas(threads: int = 1) -> bool:
    """Limit every loaded BLAS library to ``threads`` threads per call (threadpoolctl);
    False when threadpoolctl is not installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of scikit-learn, installed with us
        log.warning("threadpoolctl is not installed: NumPy's BLAS keeps its default threads")
        return False
    threadpool_limits(limits=threads, user_api="blas")
    return True
