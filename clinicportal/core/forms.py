"""Form pieces shared by the office and the portal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundField


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
