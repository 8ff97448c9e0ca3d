"""Two requests at the same moment, for the race tests (PostgreSQL: SQLite runs one writer)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def at_once[T](call: Callable[[], T], count: int = 2) -> list[T]:
    """Run ``call`` in ``count`` threads released together; return their answers in order."""
    start = threading.Barrier(count)
    answers: list[T | None] = [None] * count

    def run(index: int) -> None:
        start.wait()
        answers[index] = call()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers), "a thread gave no answer"
    return [answer for answer in answers if answer is not None]
