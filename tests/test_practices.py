"""Practices: created by command, portal URL shown under Admin → Website, settings kept."""

from __future__ import annotations

import io
import re
from datetime import UTC

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from clinicportal.accounts.models import User
from clinicportal.audit.models import AuditEvent
from clinicportal.practices.models import Practice, StaffMember


def test_create_practice_makes_the_practice_and_its_first_admin(db):
    out = io.StringIO()
    call_command(
        "create_practice",
        "--name",
        "Harbor Vision",
        "--slug",
        "harbor",
        "--admin-username",
        "hv.admin",
        "--admin-email",
        "admin@harbor.example",
        "--admin-name",
        "Hana Vu",
        stdout=out,
    )
    practice = Practice.objects.get(slug="harbor")
    admin = StaffMember.objects.get(user__username="hv.admin")
    assert admin.practice == practice and admin.is_admin
    password = out.getvalue().split("at first sign-in): ")[1].split()[0]
    expires = admin.user.temporary_password_expires_at
    assert expires is not None
    assert (
        f"It expires in 7 days, at {expires.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in out.getvalue()
    )
    assert len(password) >= 20
    assert admin.user.check_password(password)
    assert admin.user.password_is_temporary
    assert password not in admin.user.password
    assert not (practice.forms_enabled or practice.schedule_enabled or practice.pay_bills_enabled)
    assert AuditEvent.objects.filter(practice=practice, action="practice.created").exists()


def test_create_practice_refuses_a_taken_slug_and_leaves_nothing_behind(practice_x):
    with pytest.raises(CommandError, match="slug"):
        call_command(
            "create_practice",
            "--name",
            "Copy",
            "--slug",
            practice_x.slug,
            "--admin-username",
            "copy.admin",
            "--admin-email",
            "c@example.com",
            "--admin-name",
            "Copy",
            stdout=io.StringIO(),
        )
    assert not User.objects.filter(username="copy.admin").exists()


def test_create_practice_refuses_a_malformed_slug(db):
    with pytest.raises(CommandError, match="slug"):
        call_command(
            "create_practice",
            "--name",
            "Bad",
            "--slug",
            "Bad Slug!",
            "--admin-username",
            "bad.admin",
            "--admin-email",
            "b@example.com",
            "--admin-name",
            "Bad",
            stdout=io.StringIO(),
        )
    assert Practice.objects.count() == 0


def test_admin_website_shows_the_full_clickable_portal_url(alice_client, practice_x):
    html = alice_client.get(reverse("office:settings_website")).content.decode()
    assert (
        '<a href="http://testserver/p/clinic-x/" data-portal-url>http://testserver/p/clinic-x/</a>'
        in html
    )
    assert "Patients sign in here" in html


def test_admins_change_practice_details_and_feature_toggles(alice_client, practice_x):
    response = alice_client.post(
        reverse("office:settings_website"),
        {
            "name": "Clinic X Vision",
            "address": "2 Main St",
            "phone": "555",
            "schedule_enabled": "on",
            "portal_idle_minutes": "20",
            "logs_staff_as": "office",
            "time_zone": "America/New_York",
        },
    )
    assert response.status_code == 302
    practice_x.refresh_from_db()
    assert practice_x.name == "Clinic X Vision"
    assert (
        practice_x.forms_enabled,
        practice_x.schedule_enabled,
        practice_x.pay_bills_enabled,
    ) == (False, True, False)
    assert practice_x.portal_idle_minutes == 20
    assert AuditEvent.objects.filter(action="practice.updated").exists()


def test_a_blank_practice_name_is_refused(alice_client, practice_x):
    response = alice_client.post(reverse("office:settings_website"), {"name": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    practice_x.refresh_from_db()
    assert practice_x.name == "Clinic X Eye Care"


def test_staff_cannot_change_practice_settings(bob_client, practice_x):
    response = bob_client.post(reverse("office:settings_website"), {"name": "Taken over"})
    assert response.status_code == 403
    practice_x.refresh_from_db()
    assert practice_x.name == "Clinic X Eye Care"


def test_each_practice_has_its_own_portal_address(client, practice_x, practice_y):
    assert "Clinic X Eye Care" in client.get("/p/clinic-x/", follow=True).content.decode()
    assert "Clinic Y Family Practice" in client.get("/p/clinic-y/", follow=True).content.decode()
    assert client.get("/p/no-such-practice/").status_code == 404


def test_an_idle_time_out_outside_2_to_120_minutes_is_refused(alice_client, practice_x):
    response = alice_client.post(
        reverse("office:settings_website"), {"name": "Clinic X", "portal_idle_minutes": "0"}
    )
    assert "greater than or equal to 2" in response.content.decode()
    practice_x.refresh_from_db()
    assert practice_x.portal_idle_minutes == 15


def test_logs_say_the_office_unless_the_practice_chooses_staff_names(alice_client, practice_x):
    url = reverse("office:settings_website")
    assert practice_x.logs_staff_as == "office"
    html = alice_client.get(url).content.decode()
    assert re.search(r'<input type="radio" name="logs_staff_as" value="office"[^>]* checked>', html)
    data = {
        "name": "Clinic X Eye Care",
        "portal_idle_minutes": "15",
        "logs_staff_as": "name",
        "time_zone": "America/New_York",
    }
    assert alice_client.post(url, data).status_code == 302
    practice_x.refresh_from_db()
    assert practice_x.logs_staff_as == "name"
    for bad in ("everyone", ""):
        response = alice_client.post(url, {**data, "name": "Changed", "logs_staff_as": bad})
        assert response.status_code == 200
        error = "Select a valid choice" if bad else "Please choose how LOGS name office staff."
        assert error in response.content.decode()
    practice_x.refresh_from_db()
    assert (practice_x.name, practice_x.logs_staff_as) == ("Clinic X Eye Care", "name")
