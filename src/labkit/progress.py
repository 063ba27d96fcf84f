"""Progress bars for long work (tqdm, on standard error), shown only where the `labkit` command turns them on.

Library code wraps its long loops in `track(...)`; from Python (a notebook, a script) that is a plain pass-through
unless `enable(True)` was called. The CLI enables bars only when standard error is a terminal and neither -q nor
--json was given, so pipes, logs and machine-readable output never see them. tqdm is imported on first use.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_enabled = False


def enable(on: bool = True) -> None:
    """Turn progress bars on (or off) for this process."""
    global _enabled
    _enabled = on


def enabled() -> bool:
    """Whether `track` draws a bar."""
    return _enabled


def track(iterable: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "it") -> Iterable[T]:
    """The iterable, with a progress bar on standard error while it is consumed (when bars are enabled)."""
    if not _enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True,
                mininterval=0.2)


@contextmanager
def bar(total: int, *, desc: str = "", unit: str = "it") -> Iterator[Callable[[int], object]]:
    """A progress bar advanced by hand: `with bar(n) as advance: ... advance(k)` (a no-op when disabled)."""
    if not _enabled:
        yield lambda _n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True,
              mininterval=0.2) as t:
        yield t.update
