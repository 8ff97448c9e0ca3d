"""Row URLs reversed once a page: the same URL as reversing for each row."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from clinicportal.core.reversing import ID_SLOT, reverse_with_id_slot, with_id


@pytest.mark.parametrize("name", ["portal:record_view", "portal:record_download"])
def test_a_row_url_is_the_one_reverse_gives(name):
    row_id = uuid.uuid4()
    url = reverse_with_id_slot(name, "clinic-x")
    assert with_id(url, row_id) == reverse(name, args=["clinic-x", row_id])


def test_only_the_id_slot_is_filled():
    # A practice slug that happens to read like the slot is left alone: the id is the last.
    row_id = uuid.uuid4()
    url = reverse_with_id_slot("portal:record_view", str(ID_SLOT))
    assert with_id(url, row_id) == reverse("portal:record_view", args=[str(ID_SLOT), row_id])


def test_a_url_without_a_slot_is_refused():
    with pytest.raises(ValueError):
        with_id("/p/clinic-x/records/", uuid.uuid4())
