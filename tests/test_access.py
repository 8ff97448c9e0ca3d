"""The one access rule (core/access.py): what each actor may reach, checked by every service."""

from __future__ import annotations

import pytest

from clinicportal.accounts.models import PortalAccount
from clinicportal.accounts.services.api_keys import api_key_create
from clinicportal.accounts.services.portal_access import authorized_user_remove
from clinicportal.audit.models import AuditEvent
from clinicportal.core.access import NotFound, require_reachable
from clinicportal.core.context import PortalActor
from clinicportal.patients.services import chart_file_open, patient_record_view
from clinicportal.practices.models import SystemDocument
from clinicportal.practices.services import system_document_replace, system_document_retire
from clinicportal.records.models import PortalDocument
from clinicportal.records.services import portal_document_open, portal_document_share_chart_file
from tests.conftest import PDF_BYTES, actor, add_chart_pdf, add_guardian
from tests.test_records import add_to_library, named


def on_portal(member, patient) -> PortalDocument:
    chart_file = add_chart_pdf(member, patient)
    return portal_document_share_chart_file(
        actor=actor(member),
        chart_file=chart_file,
        document_date=chart_file.document_date,
        description="Exam",
        is_education=False,
    )


@pytest.fixture
def ada_actor(patient_a, issue_access) -> PortalActor:
    issue_access(patient_a, "ada")
    return PortalActor(account=PortalAccount.objects.get(username="ada"), patient=patient_a)


def test_staff_reach_only_their_own_practices_rows(alice, carol, patient_a):
    require_reachable(actor(alice), patient_a)
    with pytest.raises(NotFound):
        require_reachable(actor(carol), patient_a)


def test_a_portal_account_reaches_only_its_chosen_patients_rows(
    alice, ada_actor, patient_a, patient_b
):
    own, other = on_portal(alice, patient_a), on_portal(alice, patient_b)
    require_reachable(ada_actor, own)
    with pytest.raises(NotFound):
        require_reachable(ada_actor, other)  # same practice, another patient
    with pytest.raises(NotFound):
        require_reachable(PortalActor(account=ada_actor.account, patient=None), own)


def test_rows_of_no_patient_are_never_a_portals(alice, ada_actor):
    api_key, _ = api_key_create(actor=actor(alice), name="Printer")
    require_reachable(actor(alice), api_key)
    with pytest.raises(NotFound):
        require_reachable(ada_actor, api_key)  # its practice's, but no patient's


def test_a_portal_service_refuses_another_patients_record(alice, ada_actor, patient_b):
    with pytest.raises(NotFound):
        portal_document_open(actor=ada_actor, document=on_portal(alice, patient_b), download=False)


def test_every_service_given_another_practices_object_refuses_it_and_writes_nothing(
    alice, alice_client, practice_y, patient_a
):
    chart_file = add_chart_pdf(alice, patient_a)
    add_to_library(alice_client)
    library = SystemDocument.objects.get()
    grant = add_guardian(alice, patient_a).account.grants.get()
    outsider = actor(practice_y.staff.get())  # Y's admin: past every admin check
    refused = {
        "patient_record_view": lambda: patient_record_view(actor=outsider, patient=patient_a),
        "chart_file_open": lambda: chart_file_open(
            actor=outsider, chart_file=chart_file, download=True
        ),
        "system_document_replace": lambda: system_document_replace(
            actor=outsider,
            document=library,
            upload=named("new.pdf", PDF_BYTES),  # type: ignore[arg-type]  # refused before read
        ),
        "system_document_retire": lambda: system_document_retire(
            actor=outsider, document=library, retired=True
        ),
        "authorized_user_remove": lambda: authorized_user_remove(actor=outsider, grant=grant),
    }
    events = AuditEvent.objects.count()
    for name, call in refused.items():
        with pytest.raises(NotFound):
            call()
        assert AuditEvent.objects.count() == events, name
    library.refresh_from_db()
    assert not library.is_retired and library.filename == "glaucoma.pdf"
