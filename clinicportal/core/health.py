"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinicportal.content.blobstore import get_blob_store

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Return 200 while the process can answer at all."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Return 200 when the database and the content storage are reachable, else 503."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:
        logger.exception("readiness: database unreachable")
        checks["database"] = "unreachable"
    try:
        get_blob_store().check_writable()
        checks["storage"] = "ok"
    except Exception:
        logger.exception("readiness: storage unreachable")
        checks["storage"] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )


@never_cache
@require_GET
def readyz_worker(request: HttpRequest) -> JsonResponse:
    """Return 200 while a background worker's heartbeat is fresh, else 503.

    Separate from readyz: a load balancer must not take web servers out because the worker
    stopped; a monitor watching this one tells the operator that emails are not going out.
    """
    from clinicportal.notifications.selectors import worker_state

    state = worker_state()
    body = {
        "status": "ok" if state.running else "unavailable",
        "worker_last_seen": state.last_seen.isoformat() if state.last_seen else None,
    }
    return JsonResponse(body, status=200 if state.running else 503)
