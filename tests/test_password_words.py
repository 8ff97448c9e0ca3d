"""A password may not be made mostly of the site's or the practice's words (ASVS 6.2.11)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from clinicportal.accounts.models import User
from clinicportal.accounts.password_words import SITE_WORDS, ContextWordsValidator
from clinicportal.practices.models import Practice
from clinicportal.practices.services import practice_create
from tests.conftest import NEW_PASSWORD, PASSWORD, make_practice, portal_login

REFUSED = "mostly the practice&#x27;s name or words like"

# practice_x is "Clinic X Eye Care", slug clinic-x, at 1 Main Street, Portland, ME 04101,
# phone (207) 555-0100.
PRACTICE_X_GUESSES = [
    "ClinicXEyeCare2026",
    "Clinic X Eye Care!",
    "Portland-04101-Main",
    "2075550100-care",
    "Eye Care Portland 1",
]
SITE_GUESSES = [
    "Patient-Portal-2026",
    "p@ssw0rd-p0rta1-99",
    "MyPatientPortalPassword",
    "Welcome-Doctor-123",
    "Secure Login 2026!!",
]
FINE = [
    "correct-horse-battery-staple",
    "Clinic X and a meadow-copper-lantern",  # the words are there, but with plenty of others
    "483920174829",  # digits that are not the practice's phone
]


@pytest.mark.parametrize("password", PRACTICE_X_GUESSES + SITE_GUESSES)
def test_a_password_made_of_the_practices_or_sites_words_is_refused(practice_x, password):
    with pytest.raises(ValidationError) as refused:
        ContextWordsValidator(practice_x).validate(password)
    assert refused.value.code == "password_context_words"


@pytest.mark.parametrize("password", FINE)
def test_a_password_with_enough_words_of_its_own_is_kept(practice_x, password):
    ContextWordsValidator(practice_x).validate(password)  # raises nothing


def test_another_practices_name_is_not_this_practices_word(practice_x, practice_y):
    """practice_y is "Clinic Y Family Practice": "Family" is its word, not practice_x's."""
    ContextWordsValidator(practice_x).validate("FamilyFamily2026")
    with pytest.raises(ValidationError):
        ContextWordsValidator(practice_y).validate("FamilyFamily2026")


def test_the_site_validator_without_a_practice_knows_the_site_words_only(db):
    validator = ContextWordsValidator()
    with pytest.raises(ValidationError):
        validator.validate("Patient-Portal-2026")
    validator.validate("Clearview-2026!")  # a practice's name: the practice's check refuses it
    assert all(len(word) >= 4 and word.isalpha() for word in SITE_WORDS)


def test_a_patient_cannot_change_their_password_to_the_practices_name(ada_portal, practice_x):
    response = ada_portal.post(
        "/p/clinic-x/account/",
        {
            "current_password": NEW_PASSWORD,
            "new_password": "ClinicXEyeCare2026",
            "confirm_password": "ClinicXEyeCare2026",
        },
    )
    assert REFUSED in response.content.decode()
    assert portal_login(Client(), practice_x, "ada", NEW_PASSWORD).status_code == 302
    assert portal_login(Client(), practice_x, "ada", "ClinicXEyeCare2026").status_code == 200


def test_staff_cannot_change_their_password_to_the_practices_phone(bob_client, bob):
    before = User.objects.get(pk=bob.user.pk).password
    response = bob_client.post(
        reverse("office:account_password"),
        {
            "current_password": PASSWORD,
            "new_password": "(207) 555-0100 care",
            "confirm_password": "(207) 555-0100 care",
        },
    )
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert User.objects.get(pk=bob.user.pk).password == before


def test_a_new_practices_admin_password_may_not_be_its_name(db):
    with pytest.raises(ValidationError) as refused:
        practice_create(
            name="Harbor Vision",
            slug="harbor",
            address="",
            phone="",
            admin_username="hv.admin",
            admin_email="admin@harbor.example",
            admin_name="Hana Vu",
            admin_password="HarborVision-2026",
        )
    assert refused.value.error_list[0].code == "password_context_words"
    assert not Practice.objects.filter(slug="harbor").exists()
    assert not User.objects.filter(username="hv.admin").exists()


def test_short_and_common_address_words_take_nothing_out(db):
    """A practice named "Ace" at "2 Main Street, Suite 5": "ace", "Main", "Street" and "Suite"
    are not its words, so ordinary passwords that hold them are kept; nor is a password of
    symbols alone refused as "mostly the practice's name"."""
    practice, _admin = make_practice("ace", "Ace", "ace.admin")
    Practice.objects.filter(pk=practice.pk).update(address="2 Main Street\nSuite 5")
    validator = ContextWordsValidator(Practice.objects.get(pk=practice.pk))
    for password in ("space-remain-streetwise", "peace-mainland-suite-9", "$%^&*()_+{}|:<>"):
        validator.validate(password)  # raises nothing
