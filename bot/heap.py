"""Giving freed heap memory back to the operating system.

glibc keeps memory that was freed in per-thread arenas for reuse. Encoding quotes of every
length on several worker threads leaves those arenas fragmented, so a long-running server's
resident memory creeps up although nothing is leaked (bench/LOAD.md, section 1b). A
``malloc_trim(0)`` now and then returns the free pages. Elsewhere than glibc this does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache
from typing import Any

log = logging.getLogger(__name__)


@cache
def _libc_function(name: str, argtypes: tuple[Any, ...]) -> Any | None:
    """glibc's ``name`` with its argument types, or None where the C library lacks it."""
    library = ctypes.util.find_library("c")
    if not library:
        return None
    try:
        function = getattr(ctypes.CDLL(library), name)
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return None
    function.argtypes, function.restype = list(argtypes), ctypes.c_int
    return function


M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_arenas(count: int = 2) -> bool:
    """Cap glibc's malloc arenas (as ``MALLOC_ARENA_MAX`` would) before threads start: fewer
    arenas, less memory stranded in each. False where the C library cannot."""
    mallopt = _libc_function("mallopt", (ctypes.c_int, ctypes.c_int))
    return mallopt is not None and bool(mallopt(M_ARENA_MAX, count))


def trim_heap() -> bool:
    """Return free heap pages to the OS; False where the C library cannot."""
    trim = _libc_function("malloc_trim", (ctypes.c_size_t,))
    if trim is None:
        return False
    trim(0)
    return True
