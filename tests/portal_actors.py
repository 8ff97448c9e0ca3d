"""Fixtures: patients A and B acting through their own portal logins, for the tests of
services that take a PortalActor. Every test may use them (tests/conftest.py's pytest_plugins);
a module that needs another A, say with PAY BILLS on, defines its own ``ada``."""

from __future__ import annotations

import pytest

from clinicportal.core.context import PortalActor
from tests.secure_messages import portal_actor


@pytest.fixture
def ada(patient_a, issue_access) -> PortalActor:
    return portal_actor(patient_a, "ada", issue_access)


@pytest.fixture
def bea(patient_b, issue_access) -> PortalActor:
    return portal_actor(patient_b, "bea", issue_access)
