"""Progress on stderr, only when stderr is a terminal and nobody asked for quiet.

``stage(description)`` wraps a step of unknown length: after ``DELAY`` seconds it shows the
description and the time elapsed, refreshed twice a second, and removes the line when the step
ends. ``bar(total, ...)`` is a counting tqdm bar under the same rules. The CLI's ``--quiet``
sets ``ENABLED = False``; library users get bars only on a terminal, or when they ask.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["DELAY", "ENABLED", "bar", "shown", "stage"]

#: Master switch (the CLI's ``--quiet`` turns it off).
ENABLED = True
#: Seconds a step runs before its progress line appears (short steps show nothing).
DELAY = 2.0


def shown(progress: bool | None = None) -> bool:
    """Whether to show progress: ``progress`` when given, else enabled and stderr a terminal."""
    if progress is not None:
        return bool(progress) and ENABLED
    isatty = getattr(sys.stderr, "isatty", None)
    return ENABLED and bool(isatty and isatty())


def bar(total: int | None, desc: str, *, unit: str = "it", progress: bool | None = None) -> Any:
    """A tqdm bar on stderr (shown after ``DELAY`` seconds), or None when not shown."""
    if not shown(progress):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr, delay=DELAY,
                dynamic_ncols=True)


@contextlib.contextmanager
def stage(desc: str, *, progress: bool | None = None) -> Iterator[None]:
    """Show ``desc`` and the elapsed time while the block runs (see the module docstring)."""
    if not shown(progress):
        yield
        return
    done = threading.Event()
    start = time.monotonic()
    stream = sys.stderr

    def show() -> Any:
        from tqdm.auto import tqdm

        # A positive delay keeps tqdm from drawing before the clock is set back to the start.
        line = tqdm(total=None, desc=desc, leave=False, file=stream,
                    bar_format="{desc}: {elapsed}", delay=1.0)
        line.start_t = line._time() - (time.monotonic() - start)
        line.refresh()
        return line

    def tick(line: Any) -> None:
        if line is None:
            if done.wait(DELAY):
                return
            line = show()
        try:
            while not done.wait(0.5):
                line.refresh()
        finally:
            line.close()

    first = show() if DELAY <= 0 else None  # no delay: shown before the step starts
    thread = threading.Thread(target=tick, args=(first,), name=f"nnrules progress: {desc}",
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
