"""Tasks: the web messages from patients, to read and sign off."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from clinicportal.office.auth import StaffRequest, staff_required


@staff_required
def tasks(request: StaffRequest) -> HttpResponse:
    return render(request, "office/tasks.html")
