"""Two-step sign-in with an authenticator app, for patients (optional) and the office."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from clinicportal.accounts import totp
from clinicportal.accounts.models import RecoveryCode, TwoFactorDevice
from clinicportal.audit.models import AuditEvent
from tests.conftest import NEW_PASSWORD, portal_login


def test_totp_matches_the_rfc_6238_test_vectors():
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890" in base32
    for seconds, expected in ((59, "287082"), (1111111109, "081804"), (2000000000, "279037")):
        assert totp.code_at(secret, int(seconds // 30)) == expected


def test_a_code_is_accepted_once_and_near_now_only():
    secret = totp.new_secret()
    now = 1_800_000_000.0
    step = totp.current_step(now)
    assert totp.matching_step(secret, totp.code_at(secret, step), after=None, now=now) == step
    assert (
        totp.matching_step(secret, totp.code_at(secret, step - 1), after=None, now=now) == step - 1
    )
    assert totp.matching_step(secret, totp.code_at(secret, step - 3), after=None, now=now) is None
    assert totp.matching_step(secret, totp.code_at(secret, step), after=step, now=now) is None
    assert totp.matching_step(secret, "12 34 5x", after=None, now=now) is None


def accepted(secret: str, step: int, now: float) -> bool:
    return totp.matching_step(secret, totp.code_at(secret, step), after=None, now=now) == step


@pytest.mark.parametrize("boundary", [1_800_000_010 * 30, 59_999_999 * 30])
def test_only_the_current_and_the_previous_step_are_accepted_at_the_step_boundaries(boundary):
    secret = totp.new_secret()
    step = boundary // totp.STEP  # the step that begins at ``boundary``
    # The first instant of a step: it and the one before work; the next one and older do not.
    assert accepted(secret, step, boundary) and accepted(secret, step - 1, boundary)
    assert not accepted(secret, step + 1, boundary)
    assert not accepted(secret, step - 2, boundary)
    # Its last instant: the same.
    last = boundary + totp.STEP - 0.001
    assert accepted(secret, step, last) and accepted(secret, step - 1, last)
    assert not accepted(secret, step + 1, last)
    assert not accepted(secret, step - 2, last)
    # The instant before it begins, its code is a future one: refused.
    before = boundary - 0.001
    assert not accepted(secret, step, before)
    assert accepted(secret, step - 1, before) and accepted(secret, step - 2, before)
    assert not accepted(secret, step - 3, before)


def test_a_used_step_and_the_steps_before_it_are_refused_however_recent():
    secret = totp.new_secret()
    now = 1_800_000_000.0
    step = totp.current_step(now)
    for used in (step, step - 1):
        for code_step in (step - 1, step):
            found = totp.matching_step(secret, totp.code_at(secret, code_step), after=used, now=now)
            assert found == (code_step if code_step > used else None)


def current_code(secret: str) -> str:
    return totp.code_at(secret, totp.current_step())


def a_step_later() -> None:
    """Make the last code used one from the step before now, as if half a minute had passed.

    Only the current and the previous step's codes work, and never one already used: a test
    that signs in again at once would otherwise wait for the next step.
    """
    TwoFactorDevice.objects.update(last_used_step=totp.current_step() - 1)


def turn_on(client: Client) -> tuple[str, list[str]]:
    page = client.post(
        "/p/clinic-x/account/two-step/", {"action": "start"}, follow=True
    ).content.decode()
    assert 'src="data:image/svg+xml' in page
    found = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert found is not None
    secret = found.group(1)
    response = client.post(
        "/p/clinic-x/account/two-step/", {"code": current_code(secret), "password": NEW_PASSWORD}
    )
    codes = re.findall(r"<li><code>([0-9A-Z-]+)</code></li>", response.content.decode())
    assert len(codes) == 10
    return secret, codes


def test_a_patient_turns_two_step_on_and_signs_in_with_a_code(ada_portal, practice_x, patient_a):
    secret, _ = turn_on(ada_portal)
    assert "Two-step sign-in turned on" in ada_portal.get("/p/clinic-x/logs/").content.decode()
    visitor = Client()
    response = portal_login(visitor, practice_x, "ada", NEW_PASSWORD)
    assert response["Location"] == "/p/clinic-x/login/code/"
    assert visitor.get("/p/clinic-x/logs/")["Location"].startswith("/p/clinic-x/login/")
    wrong = visitor.post("/p/clinic-x/login/code/", {"code": "000000"})
    assert "That code did not work." in wrong.content.decode()
    # The code used to turn it on cannot be replayed; a later step's code works.
    device = TwoFactorDevice.objects.get()
    replay = totp.code_at(secret, device.last_used_step or 0)
    refused = visitor.post("/p/clinic-x/login/code/", {"code": replay})
    assert "That code did not work." in refused.content.decode()
    a_step_later()
    response = visitor.post("/p/clinic-x/login/code/", {"code": current_code(secret)})
    assert response.status_code == 302
    assert visitor.get("/p/clinic-x/logs/").status_code == 200
    assert AuditEvent.objects.filter(action="portal.code_failed", patient=patient_a).count() == 2


def test_a_recovery_code_works_once(ada_portal, practice_x):
    _, codes = turn_on(ada_portal)
    first = Client()
    portal_login(first, practice_x, "ada", NEW_PASSWORD)
    typed = codes[0].lower().replace("-", " ")
    assert first.post("/p/clinic-x/login/code/", {"code": typed}).status_code == 302
    second = Client()
    portal_login(second, practice_x, "ada", NEW_PASSWORD)
    assert second.post("/p/clinic-x/login/code/", {"code": codes[0]}).status_code == 200
    assert second.post("/p/clinic-x/login/code/", {"code": codes[1]}).status_code == 302


def test_recovery_codes_have_at_least_112_bits():
    codes = totp.recovery_codes()
    assert len(totp.RECOVERY_ALPHABET) ** totp.RECOVERY_LENGTH >= 2**112
    assert len(set(totp.RECOVERY_ALPHABET)) == len(totp.RECOVERY_ALPHABET) == 32
    assert not set("ILOU") & set(totp.RECOVERY_ALPHABET)  # nothing to misread
    assert len(set(codes)) == len(codes) == 10
    for code in codes:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}", code)
        assert totp.recovery_normalize(code) == code.replace("-", "")


def test_a_recovery_code_is_read_however_it_is_typed():
    code = "0A1B-2C3D-4E5F-6G7H-8J9K-MNPQ"
    normal = "0A1B2C3D4E5F6G7H8J9KMNPQ"
    for typed in (
        code,
        code.lower(),
        normal,
        normal.lower(),
        code.replace("-", " "),
        f"  {code.replace('-', ' - ')}  ",
        "0a1b 2c3d-4e5f6g7h 8j9k mnpq",
        "OA1B-2C3D-4E5F-6G7H-8J9K-MNPQ",  # O for 0
    ):
        assert totp.recovery_normalize(typed) == normal, typed
        assert totp.recovery_hash(typed) == totp.recovery_hash(code)
    for wrong in ("", "123456", normal[:-1], normal + "A", normal[:-1] + "U", normal[:-1] + "!"):
        assert totp.recovery_normalize(wrong) is None, wrong


def test_the_migration_retires_the_short_recovery_codes(ada_portal):
    from importlib import import_module

    from django.apps import apps

    turn_on(ada_portal)
    retire = import_module("clinicportal.accounts.migrations.0014_retire_short_recovery_codes")
    retire.retire(apps, None)
    assert not RecoveryCode.objects.exists()
    assert TwoFactorDevice.objects.filter(confirmed_at__isnull=False).exists()  # still on


def test_the_code_step_cannot_be_skipped_or_reached_without_a_password(ada_portal, practice_x):
    turn_on(ada_portal)
    assert Client().get("/p/clinic-x/login/code/")["Location"] == "/p/clinic-x/login/"
    visitor = Client()
    portal_login(visitor, practice_x, "ada", NEW_PASSWORD)
    session = visitor.session
    session["portal.pending"][2] = int(time.time()) - 600
    session.save()
    assert visitor.get("/p/clinic-x/login/code/")["Location"] == "/p/clinic-x/login/"


def test_repeated_wrong_codes_pause_sign_in(ada_portal, practice_x):
    secret, _ = turn_on(ada_portal)
    visitor = Client()
    portal_login(visitor, practice_x, "ada", NEW_PASSWORD)
    for _ in range(5):
        visitor.post("/p/clinic-x/login/code/", {"code": "000000"})
    a_step_later()
    response = visitor.post("/p/clinic-x/login/code/", {"code": current_code(secret)})
    assert "paused" in response.content.decode()


def test_turning_off_needs_the_password(ada_portal):
    secret, _ = turn_on(ada_portal)
    a_step_later()
    ada_portal.post(
        "/p/clinic-x/account/two-step/off/",
        {"off-password": "wrong", "off-code": current_code(secret)},
    )
    assert TwoFactorDevice.objects.filter(confirmed_at__isnull=False).exists()
    ada_portal.post(
        "/p/clinic-x/account/two-step/off/",
        {"off-password": NEW_PASSWORD, "off-code": current_code(secret)},
    )
    assert not TwoFactorDevice.objects.exists()
    assert "Two-step sign-in turned off" in ada_portal.get("/p/clinic-x/logs/").content.decode()


def test_a_wrong_first_code_keeps_the_same_secret_to_try_again(ada_portal):
    ada_portal.post("/p/clinic-x/account/two-step/", {"action": "start"})
    page = ada_portal.get("/p/clinic-x/account/two-step/").content.decode()
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)  # type: ignore[union-attr]
    again = ada_portal.post(
        "/p/clinic-x/account/two-step/", {"code": "000000", "password": NEW_PASSWORD}
    ).content.decode()
    assert "That code did not work." in again and secret in again
    assert not TwoFactorDevice.objects.filter(confirmed_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", "/p/clinic-x/account/two-step/"), ("post", "/p/clinic-x/account/two-step/off/")],
)
def test_two_step_pages_need_a_signed_in_patient(client, practice_x, method, url):
    assert getattr(client, method)(url)["Location"].startswith("/p/clinic-x/login/")


def test_viewing_the_setup_page_makes_no_secret_until_asked(ada_portal):
    for _ in range(2):
        page = ada_portal.get("/p/clinic-x/account/two-step/").content.decode()
        assert "Show my QR code" in page and "secret" not in page
    assert not TwoFactorDevice.objects.exists()
    ada_portal.post("/p/clinic-x/account/two-step/", {"action": "start"})
    (device,) = TwoFactorDevice.objects.all()
    for _ in range(2):  # the same key on every visit, until "Start again"
        assert device.secret in ada_portal.get("/p/clinic-x/account/two-step/").content.decode()
    ada_portal.post("/p/clinic-x/account/two-step/", {"action": "start"})
    assert TwoFactorDevice.objects.get().secret != device.secret


def test_a_second_submit_of_the_enrolment_keeps_the_first_ones_recovery_codes(bob):
    """Two submits at once both found the authenticator waiting; only the first turns it on."""
    from django.core.exceptions import ValidationError

    from clinicportal.accounts import totp
    from clinicportal.accounts.models import RecoveryCode, TwoFactorDevice
    from clinicportal.accounts.two_factor import AlreadyOn, two_factor_begin, two_factor_confirm

    device = two_factor_begin(owner=bob.user, issuer="Clinic X office", label="bob").device
    second = TwoFactorDevice.objects.get(pk=device.pk)  # what the second request read
    code = totp.code_at(device.secret, totp.current_step())
    codes = two_factor_confirm(device=device, code=code)
    with pytest.raises(AlreadyOn):
        two_factor_confirm(device=second, code=code)
    assert set(RecoveryCode.objects.values_list("code_hash", flat=True)) == {
        totp.recovery_hash(c) for c in codes
    }
    assert issubclass(AlreadyOn, ValidationError)
