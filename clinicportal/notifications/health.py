"""Notifications' probe, ``/readyz/worker``: is a background worker sending emails?"""

from __future__ import annotations

from clinicportal.core.health import Probe
from clinicportal.notifications.selectors import worker_state


def worker_probe() -> Probe:
    """Ready while a worker's heartbeat is younger than a lease."""
    state = worker_state()
    return Probe(
        ready=state.running,
        details={"worker_last_seen": state.last_seen.isoformat() if state.last_seen else None},
    )
