"""Liveness and readiness probes for load balancers and orchestrators.

Core knows only the database. Every other part says how to tell it is ready, from its app's
``ready()``: ``readiness_check_register`` adds a check to ``/readyz`` (content adds its
storage), and ``probe_register`` serves a probe of its own at ``/readyz/<name>`` for a part
whose being down must not take the web servers out of a load balancer (notifications adds its
worker, at ``/readyz/worker``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.db import connection
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinicportal.core.logformat import error_code

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Probe:
    """What a separate probe answers: ready or not, and what its JSON says besides."""

    ready: bool
    details: Mapping[str, str | None] = field(default_factory=dict)


# A readiness check returns when its part is reachable and raises when it is not.
ReadinessCheck = Callable[[], None]


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


_checks: dict[str, ReadinessCheck] = {"database": _database}
_probes: dict[str, Callable[[], Probe]] = {}


def readiness_check_register(name: str, check: ReadinessCheck) -> None:
    """Make ``/readyz`` report ``name`` and fail (503) while ``check`` raises."""
    _checks[name] = check


def probe_register(name: str, probe: Callable[[], Probe]) -> None:
    """Serve ``probe`` at ``/readyz/<name>``: 200 while it is ready, else 503."""
    _probes[name] = probe


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Return 200 while the process can answer at all."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Return 200 when the database and every registered part are reachable, else 503."""
    checks: dict[str, str] = {}
    for name, check in _checks.items():
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:
            logger.exception("readiness: %s unreachable: %s", name, error_code(exc))
            checks[name] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )


@never_cache
@require_GET
def readyz_probe(request: HttpRequest, name: str) -> JsonResponse:
    """Return 200 while the probe registered as ``name`` is ready, else 503.

    Separate from readyz: a load balancer must not take web servers out because, say, the
    worker stopped; a monitor watching this one tells the operator.
    """
    probe = _probes.get(name)
    if probe is None:
        raise Http404("No such probe.")
    answer = probe()
    return JsonResponse(
        {"status": "ok" if answer.ready else "unavailable", **answer.details},
        status=200 if answer.ready else 503,
    )
