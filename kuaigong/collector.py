"""Holding Python's cyclic garbage collector off around one bounded burst of work."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def held_off() -> Iterator[None]:
    """Run the block with the cyclic collector off, then switch it back on.

    Ranking a large pool at the station or applying a pushed batch at the hub makes tens of
    thousands of short-lived objects that reference counting frees; the collector running in
    the middle finds nothing to free and only adds pauses to the slowest requests. It is
    switched back on only if it was on: a nested or concurrent burst leaves it to whoever
    switched it off.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
