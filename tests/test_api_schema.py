"""Every answer of the API matches its own OpenAPI document, as schemathesis checks it.

Schemathesis reads the document the app serves and, for each operation, sends it requests built
from the document: its examples, boundary values, invalid values, unsupported methods and random
data. Each request goes through the project's WSGI app in this process, on the test database,
with a real API key; each answer must have a documented status code and content type, match the
schema of its body, carry its documented headers, refuse invalid input and accept valid input.
"""

from __future__ import annotations

import atexit
import ipaddress
import itertools
import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client, override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.python.wsgi import HOST

from clinicportal.accounts.services.api_keys import api_key_create
from tests.conftest import PDF_BYTES, actor

# Hypothesis caches what it learns (constants in our code, Unicode tables) under .hypothesis in
# the working folder, even without an example database: keep that in a temporary folder instead,
# set before the tests below are built, and removed when the run ends.
HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="clinicportal-hypothesis-")
atexit.register(shutil.rmtree, HYPOTHESIS_HOME, ignore_errors=True)
set_hypothesis_home_dir(HYPOTHESIS_HOME)

CONFIG = schemathesis.Config.from_dict(
    {
        # The same requests on every run (Hypothesis' derandomize), and no example database or
        # cache: nothing is written outside the test's tmp folder.
        "generation": {"deterministic": True, "database": "none"},
        "cache": {"enabled": False},
        "output": {"sanitization": {"enabled": False}},
    }
)

# The document as the app serves it, read when the tests are collected. Not `from_wsgi`: it
# leaves out the operation that serves the document, which must answer as documented too. Not
# `schemathesis.pytest.from_fixture`: with pytest 9.2 it fails (it sets `request.node._nodeid`).
with override_settings(ALLOWED_HOSTS=[HOST]):
    DOCUMENT = Client(SERVER_NAME=HOST).get("/api/v1/openapi.json").json()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
schema.app = get_wsgi_application()
ADDRESSES = itertools.count()


@pytest.fixture(autouse=True)
def _schemathesis_host_is_served(settings) -> None:
    settings.ALLOWED_HOSTS = [HOST]  # whatever ALLOWED_HOSTS this machine's environment sets


@pytest.fixture(autouse=True)
def _requests_keep_the_test_transaction() -> Iterator[None]:
    """Let the app answer in this thread inside the test's transaction, as Django's client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(alice) -> str:
    return api_key_create(actor=actor(alice), name="Schemathesis")[1]


@pytest.fixture
def answers(request) -> Iterator[Counter[int]]:
    """Count the status codes of one operation's answers, and check the run reached them all."""
    statuses: Counter[int] = Counter()
    yield statuses
    if "POST /patients/" in request.node.name:
        # Stored, refused, not found and wrong method: not only one kind of answer, checked.
        assert {201, 400, 404, 405} <= set(statuses), statuses


@schema.parametrize()
@hypothesis_settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_api_answer_matches_the_openapi_document(case, api_key, patient_a, answers):
    components = case.meta.components if case.meta else {}
    path = components.get(ParameterLocation.PATH)
    if path is not None and path.mode is GenerationMode.POSITIVE:
        case.path_parameters["patient_id"] = str(patient_a.public_id)  # a real patient
    if isinstance(case.body, dict) and "file" in case.body:
        if isinstance(case.body["file"], str):
            case.body["file"] = PDF_BYTES.decode("ascii")  # a real PDF: random text is refused
        elif not isinstance(case.body["file"], bytes):
            # A negative case (a number, a boolean) that schemathesis cannot encode as a PDF
            # part: send it as the text a client would, which is not a PDF either.
            case.body["file"] = json.dumps(case.body["file"])
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {api_key}"},
        # Each request from its own address: the wrong keys schemathesis sends on purpose must
        # not pause the address (tests/test_api.py checks that) and turn later answers into 429.
        environ_overrides={
            "REMOTE_ADDR": str(ipaddress.ip_address("2001:db8::1") + next(ADDRESSES))
        },
    )
    answers[response.status_code] += 1
