"""Birthday/recall settings and a patient's recall in the staff UI (APT-7, APT-8)."""

from __future__ import annotations

from datetime import date

from tests.outreach.conftest import make_patient

from praxisbote.outreach.models import OutreachSettings, Recall

from .helpers import field_error, text


def test_owner_switches_birthdays_on_and_a_quiet_hour_is_refused(owner_client, practice):
    page = owner_client.get("/birthdays-recalls/")
    assert page.status_code == 200
    form = {"birthday_enabled": "on", "birthday_hour": "10", "recall_hour": "9"}
    saved = owner_client.post("/birthdays-recalls/", {**form, "recall_followup_days": "7"})
    assert saved.status_code == 302
    row = OutreachSettings.objects.get(practice=practice)
    assert (row.birthday_enabled, row.birthday_hour, row.recall_followup_days) == (True, 10, 7)
    bad = owner_client.post("/birthdays-recalls/", {**form, "birthday_hour": "22"})
    assert bad.status_code == 200
    assert "22:00" in field_error(bad.content, "birthday_hour")
    assert OutreachSettings.objects.get(practice=practice).birthday_hour == 10


def test_staff_may_read_but_not_change_the_settings(assistant_client, practice):
    assert assistant_client.get("/birthdays-recalls/").status_code == 200
    refused = assistant_client.post("/birthdays-recalls/", {"birthday_enabled": "on"})
    assert refused.status_code == 403
    assert not OutreachSettings.objects.filter(practice=practice).exists()


def test_recall_is_set_on_the_patients_page_and_listed(owner_client, practice):
    patient = make_patient(practice, "Huber", email="h@example.org", consented=("email",))
    detail = owner_client.get(f"/patients/{patient.pk}/")
    assert f"/patients/{patient.pk}/recall/" in detail.content.decode()
    url = f"/patients/{patient.pk}/recall/"
    bad = owner_client.post(url, {"due_date": "2027-03-15", "interval_months": "500"})
    assert bad.status_code == 200 and field_error(bad.content, "interval_months")
    assert not Recall.objects.exists()
    ok = owner_client.post(url, {"due_date": "2027-03-15", "interval_months": "6", "note": "PZR"})
    assert ok.status_code == 302
    recall = Recall.objects.get(patient=patient)
    assert (recall.due_date, recall.interval_months, recall.note) == (date(2027, 3, 15), 6, "PZR")
    shown = text(owner_client.get(f"/patients/{patient.pk}/").content)
    assert "15. März 2027" in shown or "15.03.2027" in shown
    removed = owner_client.post(url, {"delete": "1"})
    assert removed.status_code == 302 and not Recall.objects.exists()
