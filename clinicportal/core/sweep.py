"""What ``clinicportal sweep`` tidies besides content: each app registers its own cleanup.

An app that keeps rows only for a while (sign-in failures, sent-form tokens) or that must take
back work a stopped process left (emails a worker was sending) registers, from its ``ready()``,
a function that does it and returns how many rows it handled, with the line sweep prints.
Sweep runs them in the order the apps are installed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Cleanup:
    run: Callable[[], int]
    report: str  # the line sweep prints; {count} is what ``run`` returned


_cleanups: dict[str, Cleanup] = {}


def cleanup_register(name: str, run: Callable[[], int], *, report: str) -> None:
    """Have sweep call ``run`` and print ``report.format(count=<what it returned>)``."""
    _cleanups[name] = Cleanup(run=run, report=report)


def cleanups() -> list[Cleanup]:
    return list(_cleanups.values())
