"""bot/heap.py: free heap pages go back to the operating system (glibc)."""

from __future__ import annotations

import sys
import threading

import pytest

from bot.heap import trim_heap


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and glibc")
def test_trim_returns_free_pages_that_glibc_would_keep() -> None:
    """A worker thread fills its arena with small blocks and frees all but every 32nd, as
    encoding texts of every length does: glibc keeps the holes; malloc_trim returns them."""
    kept: list[bytearray] = []

    def work() -> None:
        blocks = [bytearray(b"x" * (8 * 1024)) for _ in range(6000)]  # ~47 MiB, touched
        kept.extend(blocks[::32])
        del blocks

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    before = rss_kib()
    assert trim_heap() is True
    assert before - rss_kib() > 16 * 1024, "malloc_trim returned less than 16 MiB"
    assert len(kept) == 188
