"""Admin → Forms: the practice's forms, a new one, its details and fields, and its preview.

Admins only. The field builder (``office.form_builder``) posts every field with each button;
``form_fields_save`` keeps the answered version as it was and makes the next one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinicportal.core.forms import service_errors
from clinicportal.intake import fields as kinds
from clinicportal.intake.models import Form
from clinicportal.intake.questions import preview_questions
from clinicportal.intake.selectors import Current, form_current, office_form, office_forms
from clinicportal.intake.services import form_create, form_details_save, form_fields_save
from clinicportal.office.auth import StaffRequest, admin_required
from clinicportal.office.form_builder import (
    MAX_FIELDS,
    Action,
    BaseFieldFormSet,
    FormDetailsForm,
    NewFieldForm,
    field_formset,
    fields_digest,
)
from clinicportal.office.once import Sent, submit_once


def _form_url(form: Form, fragment: str = "") -> str:
    return reverse("office:form", args=[form.public_id]) + fragment


@require_GET
@admin_required
def forms(request: StaffRequest) -> HttpResponse:
    """The practice's forms, with how many patients were asked and how many answered."""
    return render(request, "office/forms.html", {"forms": office_forms(actor=request.actor)})


@require_http_methods(["GET", "POST"])
@admin_required
def form_new(request: StaffRequest) -> HttpResponse:
    details = FormDetailsForm.for_new(request.POST or None)

    def create() -> Sent:
        data = details.cleaned_data
        made = form_create(
            actor=request.actor,
            name=data["name"],
            kind=data["kind"],
            description=data["description"],
            offered_to_all=data["offered_to_all"],
        )
        return Sent(
            _form_url(made, "#fields"),
            _("“%(name)s” was made. Now add its fields.") % {"name": made.name},
        )

    if request.method == "POST" and details.is_valid():
        try:
            return submit_once(request, actor=request.actor, write=create)
        except ValidationError as exc:
            service_errors(details, exc)
    status = 400 if details.errors else 200
    return render(request, "office/form_new.html", {"details": details}, status=status)


@dataclass
class Builder:
    """The builder as the page shows it: its rows, the new field, and its own problems."""

    rows: BaseFieldFormSet
    new: NewFieldForm
    digest: str
    errors: list[str] = field(default_factory=list)


@require_http_methods(["GET", "POST"])
@admin_required
def form_edit(request: StaffRequest, form_id: uuid.UUID) -> HttpResponse:
    """A form's details (one form) and its fields (the builder), each saved on its own."""
    form = office_form(actor=request.actor, public_id=form_id)
    current = form_current(actor=request.actor, form=form)
    details = FormDetailsForm(initial=FormDetailsForm.initial_for(form))
    builder = Builder(
        field_formset(fields=kinds.fields_of(current.version.fields)),
        NewFieldForm(),
        fields_digest(current.version.fields),
    )
    status = 200
    if request.method == "POST" and request.POST.get("part") == "details":
        details = FormDetailsForm(request.POST)
        if details.is_valid():
            try:
                form_details_save(actor=request.actor, form=form, **details.cleaned_data)
            except ValidationError as exc:
                service_errors(details, exc)
            else:
                messages.success(request, _("The form’s details were saved."))
                return redirect(_form_url(form))
        status = 400
    elif request.method == "POST":
        answer = _fields_post(request, form, current)
        if isinstance(answer, HttpResponse):
            return answer
        builder, status = answer
    context = {
        "form": form,
        "current": current,
        "details": details,
        "builder": builder,
        "next_number": current.version.number + 1,
    }
    return render(request, "office/form.html", context, status=status)


def _fields_post(
    request: StaffRequest, form: Form, current: Current
) -> HttpResponse | tuple[Builder, int]:
    """Do what the builder's button asks and save; or say what is wrong, keeping every input."""
    rows = field_formset(request.POST)
    new = NewFieldForm(request.POST)
    saved = current.version.fields
    builder = Builder(rows, new, fields_digest(saved))
    if not rows.management_form.is_valid():
        builder.errors.append(
            _("The page was not sent whole; nothing was saved. Please reload it.")
        )
        return builder, 400
    action = Action.parse(request.POST.get("action", ""), rows.total_form_count())
    kept = [
        (n, row)
        for n, row in enumerate(rows.forms)
        if not (action.name == "remove" and n == action.index)
    ]
    valid = all([row.is_valid() for _n, row in kept])  # every row, to show every problem
    adding = action.name == "add" or new.started
    if adding and not new.is_valid():
        valid = False
    builder.errors.extend(str(error) for error in rows.non_form_errors())
    if request.POST.get("digest") != builder.digest:
        builder.errors.append(
            _(
                "Someone else saved this form’s fields while you were editing them; yours were "
                "not saved. Check the fields below and save again to keep them."
            )
        )
        return builder, 409
    if not valid or builder.errors:
        return builder, 400
    fields = [row.field() for _n, row in kept]
    if action.name in ("up", "down"):
        fields = action.apply(fields)
    if adding:
        fields.append(new.field())
    if len(fields) > MAX_FIELDS:
        builder.errors.append(
            _("A form can have at most %(count)s fields; nothing was saved.")
            % {"count": MAX_FIELDS}
        )
        return builder, 400
    if [f.as_data() for f in fields] == saved:
        messages.info(request, _("Nothing was changed."))
        return redirect(_form_url(form, "#fields"))
    try:
        version = form_fields_save(actor=request.actor, form=form, fields=fields)
    except ValidationError as exc:
        builder.errors.extend(exc.messages)
        return builder, 400
    for said in _done(action, rows, new if adding else None):
        messages.success(request, said)
    if version.number > current.version.number:
        messages.info(
            request,
            _(
                "Saved as version %(number)s; earlier versions are kept with the answers given "
                "to them."
            )
            % {"number": version.number},
        )
    return redirect(_form_url(form, "#fields"))


def _done(action: Action, rows: BaseFieldFormSet, new: NewFieldForm | None) -> list[str]:
    """What the button did, in words (and the new field, added with it when one was typed)."""

    def named(label: object) -> str:
        return Truncator(str(label or "")).chars(60) or _("The field")

    added = named(new.cleaned_data.get("label")) if new is not None else ""
    if action.name in ("up", "down", "remove"):
        said = {
            "up": _("“%(label)s” was moved up."),
            "down": _("“%(label)s” was moved down."),
            "remove": _("“%(label)s” was removed."),
        }[action.name]
        done = [said % {"label": named(rows.forms[action.index]["label"].value())}]
        return done + ([_("“%(label)s” was added.") % {"label": added}] if added else [])
    if action.name == "add" and added:
        return [_("“%(label)s” was added.") % {"label": added}]
    if added:
        return [_("The fields were saved, and “%(label)s” was added.") % {"label": added}]
    return [_("The fields were saved.")]


@require_GET
@admin_required
def form_preview(request: StaffRequest, form_id: uuid.UUID) -> HttpResponse:
    """The form as patients see it in the portal, its inputs disabled."""
    form = office_form(actor=request.actor, public_id=form_id)
    current = form_current(actor=request.actor, form=form)
    fields = kinds.fields_of(current.version.fields)
    context = {
        "form": form,
        "version": current.version,
        "questions": preview_questions(fields),
        "required": any(f.required for f in fields),
    }
    return render(request, "office/form_preview.html", context)
