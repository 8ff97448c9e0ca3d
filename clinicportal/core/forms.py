"""Form pieces shared by the office and the portal."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.utils.translation import gettext as _


def form_errors_id(form: forms.BaseForm) -> str:
    """Return the id of the element in includes/form_errors.html that holds the form's own errors.

    The template builds the same id from the form's prefix.
    """
    return f"{form.prefix}-form-errors" if form.prefix else "form-errors"


class FormErrorsConcernField(BoundField):
    """A field that the form's own errors are about as well.

    On a sign-in form, "that username and password do not match" concerns both fields: each is
    marked invalid and described by that message, as Django already does for a field's own errors.
    """

    def build_widget_attrs(
        self, attrs: dict[str, Any], widget: forms.Widget | None = None
    ) -> dict[str, Any]:
        widget = widget or self.field.widget
        attrs = super().build_widget_attrs(attrs, widget)
        if widget.is_hidden or not self.form.non_field_errors():
            return attrs
        described = str(attrs.get("aria-describedby") or widget.attrs.get("aria-describedby") or "")
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = " ".join([form_errors_id(self.form), *described.split()])
        return attrs


def service_errors(
    form: forms.BaseForm, exc: ValidationError, *, rename: Mapping[str, str] | None = None
) -> None:
    """Put a service's ValidationError next to the fields it names, the rest on the form itself.

    ``rename`` maps a field the service names to the form's field for it, when the form calls it
    differently (the service's ``password`` is the form's ``new_password``).
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        if field not in form.fields:
            field = (rename or {}).get(field, field)
        form.add_error(field if field in form.fields else None, errors)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files and self.required:
            raise forms.ValidationError(_("Please choose at least one file."), code="required")
        return list(files)


class OneTimeKeyField(forms.CharField):
    """A hidden key, new each time the form is shown, that makes its post take effect once.

    A service given the key finds what an earlier post with it made (a double click, a retried
    request) instead of making it again. A form shown again with its errors keeps its key: that
    post wrote nothing.
    """

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("initial", lambda: secrets.token_urlsafe(24))
        super().__init__(**kwargs)
