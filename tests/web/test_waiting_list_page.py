"""The waiting list in the staff UI: add, offer a free slot to the first ones, remove."""

from __future__ import annotations

from tests.outreach.conftest import make_patient

from praxisbote.messaging.models import Message
from praxisbote.outreach.models import WaitingListEntry

from .helpers import field_error, text


def test_add_offer_and_remove(owner_client, practice):
    first = make_patient(practice, "Erste", email="1@example.org", consented=("email",))
    nobody = make_patient(practice, "Ohne", email="2@example.org")
    for patient in (first, nobody):
        added = owner_client.post(
            "/waiting-list/", {"add": "1", "patient_id": str(patient.pk), "wishes": "vormittags"}
        )
        assert added.status_code == 302
    page = text(owner_client.get("/waiting-list/").content)
    assert "Erste" in page and "vormittags" in page
    offer = owner_client.post(
        "/waiting-list/", {"offer": "1", "start": "2030-03-11T09:00", "count": "5"}, follow=True
    )
    shown = text(offer.content)
    assert "Angeboten an: Erste." in shown and "Ohne" in shown
    message = Message.objects.get(patient=first)
    assert "11.03. um 09:00 Uhr" in message.body
    entry = WaitingListEntry.objects.get(patient=first)
    assert entry.offered_at is not None
    removed = owner_client.post(f"/waiting-list/{entry.pk}/remove/")
    assert removed.status_code == 302
    assert list(WaitingListEntry.objects.values_list("patient__last_name", flat=True)) == ["Ohne"]


def test_errors_are_shown_next_to_the_field(owner_client, practice):
    missing = owner_client.post("/waiting-list/", {"offer": "1", "count": "3"})
    assert field_error(missing.content, "start")
    empty = owner_client.post("/waiting-list/", {"add": "1", "patient_id": ""})
    assert field_error(empty.content, "patient_id")
    assert not WaitingListEntry.objects.exists()
