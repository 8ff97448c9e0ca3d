"""The demo practice's FORMS: an intake form, a HIPAA acknowledgement, and who must fill them.

Forms is switched on. The intake form (every kind of field, a typed signature at the end) is
assigned to Jordan (the demo patient), so FORMS has something to fill as soon as he signs in;
the HIPAA acknowledgement is offered to every patient. Made once, through the intake services
as an admin would: nothing happens if the practice has forms.
"""

from __future__ import annotations

from django.db import transaction

from clinicportal.core.context import StaffActor
from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field
from clinicportal.intake.models import Form
from clinicportal.intake.services import form_assign, form_create, form_fields_save
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice

INTAKE = [
    Field("about", kinds.HEADING, "About you"),
    Field("preferred", kinds.SHORT_TEXT, "Preferred name"),
    Field("born", kinds.DATE, "Date of birth", required=True),
    Field("phone", kinds.SHORT_TEXT, "Best phone number", required=True),
    Field("eyes", kinds.HEADING, "Your eyes"),
    Field(
        "reason",
        kinds.SINGLE,
        "Main reason for this visit",
        required=True,
        choices=("Routine eye exam", "Blurry vision", "Eye pain or redness", "Follow-up"),
    ),
    Field(
        "symptoms",
        kinds.MULTIPLE,
        "Do you have any of these?",
        help="Tick all that apply.",
        choices=("Headaches", "Dry eyes", "Floaters", "Flashes of light", "Glare at night"),
    ),
    Field("glasses", kinds.YES_NO, "Do you wear glasses?", required=True),
    Field("contacts", kinds.YES_NO, "Do you wear contact lenses?", required=True),
    Field("screen", kinds.NUMBER, "Hours a day at a screen"),
    Field(
        "medicines",
        kinds.LONG_TEXT,
        "Medicines you take, and eye drops",
        help="Name and how often, one a line.",
    ),
    Field("family", kinds.LONG_TEXT, "Eye disease in your family (glaucoma, macular degeneration)"),
    Field("sign-head", kinds.HEADING, "Signature"),
    Field(
        "true",
        kinds.HELP,
        "By signing you confirm that what you wrote is true to the best of your knowledge.",
    ),
    Field("signature", kinds.SIGNATURE, "Your signature", required=True),
]
HIPAA = [
    Field(
        "notice",
        kinds.HELP,
        "Our Notice of Privacy Practices says how we use and protect your health information. "
        "Ask the front desk for a printed copy at any time.",
    ),
    Field(
        "signature", kinds.SIGNATURE, "I received the Notice of Privacy Practices", required=True
    ),
]


def demo_forms(*, admin: StaffActor) -> None:
    """Switch FORMS on, make the two forms and assign the intake form to Jordan, once."""
    practice = admin.practice
    if Form.objects.filter(practice=practice).exists():
        return
    with transaction.atomic():
        Practice.objects.filter(pk=practice.pk).update(forms_enabled=True)
        practice.forms_enabled = True
        intake = form_create(
            actor=admin,
            name="New patient intake",
            kind=Form.Kind.INTAKE,
            description="Please fill this in before your first visit. It takes about 5 minutes.",
        )
        form_fields_save(actor=admin, form=intake, fields=INTAKE)
        hipaa = form_create(
            actor=admin,
            name="HIPAA acknowledgement",
            kind=Form.Kind.HIPAA,
            offered_to_all=True,
        )
        form_fields_save(actor=admin, form=hipaa, fields=HIPAA)
        jordan = Patient.objects.get(practice=practice, first_name="Jordan", last_name="Rivera")
        form_assign(actor=admin, form=intake, patient=jordan)
