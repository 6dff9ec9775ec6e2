"""Practice settings: owners change them, staff only read them."""

from __future__ import annotations

from datetime import time

from praxisbote.practices.models import Practice

from .helpers import de, field_error, input_value, text

VALID = {
    "name": "Praxis Dr. Huber & Partner",
    "phone": "+43 1 5551234",
    "sender_name": "Dr. Huber",
    "timezone": "Europe/Vienna",
    "language": "de",
    "quiet_hours_start": "21:00",
    "quiet_hours_end": "07:30",
    "protocol_retention_days": "60",
    "email_enabled": "on",
    "sms_enabled": "on",
}


def test_owner_saves_every_setting(owner_client, practice):
    response = owner_client.post("/practice/", VALID)
    assert response.status_code == 302
    practice.refresh_from_db()
    assert practice.name == "Praxis Dr. Huber & Partner"
    assert practice.sender_name == "Dr. Huber"
    assert (practice.quiet_hours_start, practice.quiet_hours_end) == (time(21), time(7, 30))
    assert practice.protocol_retention_days == 60
    assert (practice.email_enabled, practice.sms_enabled, practice.threema_enabled) == (
        True,
        True,
        False,
    )
    assert de("Settings saved.") in text(owner_client.get("/practice/").content)


def test_each_service_message_is_shown_next_to_its_field_and_nothing_is_saved(
    owner_client, practice
):
    bad = {**VALID, "name": "  ", "timezone": "Mars/Olympus", "protocol_retention_days": "0"}
    response = owner_client.post("/practice/", bad)
    assert response.status_code == 200
    assert field_error(response.content, "name") == de("Enter the practice's name.")
    assert field_error(response.content, "timezone") == de("Unknown time zone %(tz)s.") % {
        "tz": "Mars/Olympus"
    }
    assert field_error(response.content, "protocol_retention_days") == de(
        "Between 1 and 3650 days."
    )
    assert input_value(response.content, "protocol_retention_days") == "0", "input kept"
    assert Practice.objects.get(pk=practice.pk).name == "Praxis Dr. Huber"


def test_every_setting_explains_itself(owner_client):
    page = owner_client.get("/practice/").content.decode()
    for field in VALID.keys() | {"threema_enabled"}:
        assert f'id="id_{field}_helptext"' in page, f"{field} has no help text"
        assert f'for="id_{field}"' in page, f"{field} has no label"


def test_staff_see_the_settings_read_only_and_cannot_change_them(assistant_client, practice):
    page = assistant_client.get("/practice/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="name"' in html and "disabled" in html.split('name="name"')[1].split(">")[0]
    assert 'type="submit" class="primary"' not in html
    response = assistant_client.post("/practice/", {**VALID, "name": "Übernommen"})
    assert response.status_code == 403
    assert Practice.objects.get(pk=practice.pk).name == "Praxis Dr. Huber"
