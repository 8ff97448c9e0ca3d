"""Billing: the practice's invoices, an invoice, its payments and adjustments."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from clinicportal.office.auth import StaffRequest, staff_required


@staff_required
def billing(request: StaffRequest) -> HttpResponse:
    return render(request, "office/billing.html")
