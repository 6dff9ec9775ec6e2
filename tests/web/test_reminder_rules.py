"""The reminder rules page (APT-2): the practice's rule with the quiet hours, one rule per
patient category, the API's messages next to the fields, nothing half-written, staff
read-only, other practices' rules not found."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from praxisbote.appointments import services
from praxisbote.appointments.models import ReminderRule
from praxisbote.appointments.rules import lead_due
from praxisbote.messaging.models import Kind, Message
from praxisbote.patients.models import PatientCategory
from praxisbote.patients.services import create_patient, save_category
from praxisbote.practices.models import Practice

from .helpers import de, field_error, text

URL = "/reminder-rules/"


def post(client, url: str = URL, leads=(("24", "hours"),), **fields):
    """A form post: lead rows as repeated fields, the rest as given."""
    data: dict[str, object] = {
        "confirm_on_booking": "on",
        "channel_1": "",
        "channel_2": "",
        "channel_3": "",
        "quiet_hours_start": "20:00",
        "quiet_hours_end": "08:00",
    }
    data.update(fields)
    data["lead_hours_value"] = [v for v, _ in leads]
    data["lead_hours_unit"] = [u for _, u in leads]
    return client.post(url, {k: v for k, v in data.items() if v is not None})


def lead_error(content: bytes) -> str:
    """The message shown next to the reminders (a fieldset of rows, not one input)."""
    page = content.decode()
    match = re.search(r'<ul class="errorlist" id="id_lead_hours_error">(.*?)</ul>', page, re.S)
    assert match, "no error shown next to the reminders"
    fieldset = re.search(r'<fieldset class="field invalid"[^>]*aria-describedby="([^"]*)"', page)
    assert fieldset and "id_lead_hours_error" in fieldset.group(1), "not linked to its fieldset"
    assert 'name="lead_hours_value"' in page and 'aria-invalid="true"' in page
    return text(match.group(1))


def lead_inputs(content: bytes) -> list[tuple[str, str]]:
    """(number, unit) of every reminder row shown, the empty row for a new one included."""
    page = content.decode()
    values = re.findall(r'<input type="number" name="lead_hours_value"[^>]*value="([^"]*)"', page)
    units = re.findall(
        r'<select name="lead_hours_unit".*?<option value="(\w+)" selected', page, re.S
    )
    return list(zip(values, units, strict=True))


def snapshot(practice: Practice) -> tuple:
    practice.refresh_from_db()
    rows = list(
        ReminderRule.objects.filter(practice=practice)
        .order_by("pk")
        .values_list("category_id", "confirm_on_booking", "lead_hours", "channels")
    )
    return rows, practice.quiet_hours_start, practice.quiet_hours_end


@pytest.fixture
def kinder(practice) -> PatientCategory:
    return save_category(practice, None, {"name": "Kinder", "channels": ["sms", "email"]})


def category_rule(practice, category, **data) -> ReminderRule:
    services.save_rule(practice, category, data)
    return ReminderRule.objects.get(practice=practice, category=category)


# ---------------------------------------------------------------- showing


def test_the_page_is_in_the_menu_next_to_appointments(owner_client):
    nav = owner_client.get("/").content.decode()
    assert f'href="{URL}"' in nav
    assert nav.index('href="/appointments/"') < nav.index(f'href="{URL}"')


def test_a_new_practice_sees_the_defaults_and_what_quiet_hours_do(owner_client):
    page = owner_client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'<input type="checkbox" name="confirm_on_booking"[^>]*checked', html)
    assert lead_inputs(page.content) == [("1", "days"), ("", "hours")], "24 h is one day"
    assert 'name="quiet_hours_start" value="20:00"' in html
    assert 'name="quiet_hours_end" value="08:00"' in html
    body = text(page.content)
    assert (
        "Ruhezeit von 20:00 bis 08:00 (Europe/Vienna): Eine Erinnerung, die hineinfallen würde, "
        "geht vorher hinaus, um 19:59; eine Bestätigung, die während der Ruhezeit entsteht "
        "(ein nachts gebuchter Termin), geht hinaus, wenn sie endet, um 08:00." in body
    )
    assert (
        de(
            "Changes apply to appointments booked afterwards, and to appointments moved or copied "
            "afterwards when new reminders are created for them. Confirmations and reminders "
            "already scheduled keep their time and channel."
        )
        in body
    )
    assert "Regeln speichern" in body


def test_no_quiet_hours_are_explained_as_such(owner_client, practice):
    practice.quiet_hours_start = practice.quiet_hours_end = time(0, 0)
    practice.save()
    assert "Keine Ruhezeit eingestellt" in text(owner_client.get(URL).content)


def test_every_category_is_listed_with_its_rule_or_the_fallback(owner_client, practice, kinder):
    rule = category_rule(practice, kinder, lead_hours=[48, 3], channels=["sms"])
    body = text(owner_client.get(URL).content)
    assert "Kinder ja 2 Tage (48 h), 3 Stunden SMS" in body
    assert "Standard Folgt der Regel der Praxis." in body
    html = owner_client.get(URL).content.decode()
    assert f'href="/reminder-rules/{rule.pk}/"' in html
    assert f'href="/reminder-rules/{rule.pk}/delete/"' in html


# ---------------------------------------------------------------- the practice's rule


def test_the_owner_changes_the_practices_rule_and_quiet_hours(owner_client, practice):
    response = post(
        owner_client,
        leads=(("48", "hours"), ("2", "hours"), ("", "hours")),
        confirm_on_booking=None,
        channel_1="email",
        channel_2="sms",
        quiet_hours_start="21:30",
        quiet_hours_end="07:00",
    )
    assert response.status_code == 302 and response["Location"] == URL
    rule = services.practice_rule(practice)
    assert (rule.confirm_on_booking, rule.lead_hours, rule.channels) == (
        False,
        [48, 2],
        ["email", "sms"],
    )
    practice.refresh_from_db()
    assert (practice.quiet_hours_start, practice.quiet_hours_end) == (time(21, 30), time(7))
    page = owner_client.get(URL)
    assert "Erinnerungsregeln gespeichert." in text(page.content)
    assert lead_inputs(page.content) == [("2", "days"), ("2", "hours"), ("", "hours")]
    assert "um 21:29" in text(page.content)


def test_whole_days_are_stored_as_hours(owner_client, practice):
    post(owner_client, leads=(("3", "days"), ("1", "days"), ("30", "hours")))
    assert services.practice_rule(practice).lead_hours == [72, 30, 24]


def test_all_reminders_can_be_removed(owner_client, practice):
    assert post(owner_client, leads=(("", "hours"),)).status_code == 302
    assert services.practice_rule(practice).lead_hours == []
    page = owner_client.get(URL)
    assert lead_inputs(page.content) == [("", "hours")]


def test_a_bad_rule_is_shown_next_to_its_field_and_nothing_is_written(owner_client, practice):
    before = snapshot(practice)
    response = post(
        owner_client,
        leads=(("0", "hours"), ("24", "hours")),
        channel_1="sms",
        channel_2="sms",
        quiet_hours_start="22:00",  # valid, but must not be saved alone
    )
    assert response.status_code == 200
    assert lead_error(response.content) == de(
        "A reminder goes out between 1 and %(max)d hours before the appointment."
    ) % {"max": 1440}
    assert field_error(response.content, "channel_1") == de("Name each channel only once.")
    assert lead_inputs(response.content)[:2] == [("0", "hours"), ("24", "hours")], "typed kept"
    assert snapshot(practice) == before


def test_bad_quiet_hours_keep_a_good_rule_from_being_saved(owner_client, practice):
    before = snapshot(practice)
    response = post(owner_client, leads=(("48", "hours"),), quiet_hours_end="")
    assert response.status_code == 200
    assert field_error(response.content, "quiet_hours_end") == de("This field cannot be empty.")
    assert snapshot(practice) == before
    response = post(owner_client, leads=(("48", "hours"),), quiet_hours_start="25:00")
    assert field_error(response.content, "quiet_hours_start")
    assert snapshot(practice) == before


def test_a_reminder_that_is_no_number_is_named(owner_client, practice):
    before = snapshot(practice)
    response = post(owner_client, leads=(("zwei", "days"),))
    assert lead_error(response.content) == de(
        "Enter each reminder as a whole number, e.g. 48 hours or 2 days."
    )
    assert snapshot(practice) == before


@pytest.mark.parametrize(
    ("api_body", "page_fields"),
    [
        ({"lead_hours": [0]}, {"leads": (("0", "hours"),)}),
        ({"lead_hours": [24 * 61]}, {"leads": (("61", "days"),)}),
        (
            {"lead_hours": [1, 2, 3, 4, 5, 6]},
            {"leads": tuple((str(h), "hours") for h in range(1, 7))},
        ),
        ({"channels": ["fax"]}, {"channel_1": "fax"}),
        (
            {"lead_hours": [0], "channels": ["sms", "email", "sms"]},
            {
                "leads": (("0", "hours"),),
                "channel_1": "sms",
                "channel_2": "email",
                "channel_3": "sms",
            },
        ),
    ],
)
def test_the_same_messages_as_the_api(owner_client, api, practice, api_body, page_fields):
    """One set of rules: the page shows what PUT /api/v1/reminder-rules answers."""
    problem = api.client.put(
        "/api/v1/reminder-rules",
        json.dumps(api_body),
        content_type="application/json",
        headers={"Accept-Language": "de"},
    ).json()
    assert problem["status"] == 422
    assert {e["field"] for e in problem["errors"]} == set(api_body)
    page = post(owner_client, **page_fields)
    for error in problem["errors"]:
        if error["field"] == "lead_hours":
            assert lead_error(page.content) == error["message"]
        else:
            assert field_error(page.content, "channel_1") == error["message"]
    assert not ReminderRule.objects.filter(practice=practice).exists()


# ---------------------------------------------------------------- category rules


def test_the_owner_creates_edits_and_deletes_a_category_rule(owner_client, practice, kinder):
    post(owner_client, leads=(("24", "hours"),), channel_1="email")  # the practice's rule
    form = owner_client.get(f"/reminder-rules/new/?category={kinder.pk}")
    html = form.content.decode()
    assert re.search(rf'<option value="{kinder.pk}" selected>Kinder</option>', html)
    assert lead_inputs(form.content)[0] == ("1", "days"), "starts from the practice's rule"

    response = post(
        owner_client,
        "/reminder-rules/new/",
        leads=(("2", "days"), ("3", "hours")),
        category=str(kinder.pk),
        channel_1="sms",
        confirm_on_booking=None,
    )
    assert response.status_code == 302
    rule = ReminderRule.objects.get(practice=practice, category=kinder)
    assert (rule.confirm_on_booking, rule.lead_hours, rule.channels) == (False, [48, 3], ["sms"])

    edit_url = f"/reminder-rules/{rule.pk}/"
    assert "Erinnerungsregel für „Kinder“" in text(owner_client.get(edit_url).content)
    response = post(owner_client, edit_url, leads=(("5", "hours"),), channel_1="email")
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.confirm_on_booking, rule.lead_hours, rule.channels) == (True, [5], ["email"])
    assert services.practice_rule(practice).lead_hours == [24], "the practice's rule unchanged"

    patient = create_patient(practice, {"last_name": "Klein", "category": kinder.pk})
    assert services.rule_for(practice, patient).lead_hours == [5]
    confirm = owner_client.get(f"/reminder-rules/{rule.pk}/delete/")
    assert "Regel von „Kinder“ löschen?" in text(confirm.content)
    response = owner_client.post(f"/reminder-rules/{rule.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == URL
    assert not ReminderRule.objects.filter(category=kinder).exists()
    assert services.rule_for(practice, patient).lead_hours == [24], "falls back to the practice's"
    assert "folgen wieder der Regel der Praxis" in text(owner_client.get(URL).content)


def test_a_bad_category_rule_is_shown_and_not_written(owner_client, practice, kinder):
    response = post(
        owner_client, "/reminder-rules/new/", leads=(("0", "hours"),), category=str(kinder.pk)
    )
    assert response.status_code == 200
    assert lead_error(response.content) == de(
        "A reminder goes out between 1 and %(max)d hours before the appointment."
    ) % {"max": 1440}
    assert not ReminderRule.objects.filter(practice=practice).exists()
    rule = category_rule(practice, kinder, lead_hours=[48])
    response = post(owner_client, f"/reminder-rules/{rule.pk}/", channel_1="sms", channel_2="sms")
    assert field_error(response.content, "channel_1") == de("Name each channel only once.")
    rule.refresh_from_db()
    assert rule.lead_hours == [48] and rule.channels == []


def test_a_category_needs_choosing_and_can_have_only_one_rule(owner_client, practice, kinder):
    response = post(owner_client, "/reminder-rules/new/", category="")
    assert field_error(response.content, "category")
    category_rule(practice, kinder, lead_hours=[48])
    response = post(owner_client, "/reminder-rules/new/", category=str(kinder.pk))
    assert field_error(response.content, "category"), "Kinder already has its rule"
    assert ReminderRule.objects.get(category=kinder).lead_hours == [48]


def test_when_every_category_has_a_rule_none_can_be_added(owner_client, practice, kinder):
    for category in PatientCategory.objects.filter(practice=practice):
        category_rule(practice, category, lead_hours=[48])
    assert "/reminder-rules/new/" not in owner_client.get(URL).content.decode()
    page = owner_client.get("/reminder-rules/new/")
    assert "Alle Akten-Typen haben schon eine eigene Regel." in text(page.content)


def test_the_practices_rule_cannot_be_deleted(owner_client, practice):
    post(owner_client, leads=(("48", "hours"),))
    own = ReminderRule.objects.get(practice=practice, category__isnull=True)
    for url in (f"/reminder-rules/{own.pk}/", f"/reminder-rules/{own.pk}/delete/"):
        assert owner_client.get(url).status_code == 404
        assert owner_client.post(url).status_code == 404
    assert ReminderRule.objects.filter(pk=own.pk).exists()
    assert "/delete/" not in owner_client.get(URL).content.decode()


# ---------------------------------------------------------------- roles and practices


def test_staff_see_the_rules_read_only_and_cannot_change_them(assistant_client, practice, kinder):
    rule = category_rule(practice, kinder, lead_hours=[48])
    page = assistant_client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert de("Only the owner of the practice account can change the reminder rules.") in text(
        page.content
    )
    assert re.search(r'<input type="number" name="lead_hours_value"[^>]*disabled', html)
    assert re.search(r'<input type="time" name="quiet_hours_start"[^>]*disabled', html)
    assert "Regeln speichern" not in text(page.content)
    assert "/reminder-rules/new/" not in html and "/delete/" not in html
    edit = assistant_client.get(f"/reminder-rules/{rule.pk}/")
    assert edit.status_code == 200 and "Regel speichern" not in text(edit.content)

    before = snapshot(practice)
    assert post(assistant_client, leads=(("2", "hours"),)).status_code == 403
    assert post(assistant_client, f"/reminder-rules/{rule.pk}/").status_code == 403
    assert (
        post(assistant_client, "/reminder-rules/new/", category=str(kinder.pk)).status_code == 403
    )
    assert assistant_client.get("/reminder-rules/new/").status_code == 403
    for method in ("get", "post"):
        url = f"/reminder-rules/{rule.pk}/delete/"
        assert getattr(assistant_client, method)(url).status_code == 403
    assert snapshot(practice) == before


def test_another_practices_rule_is_not_found_and_unchanged(owner_client, other_practice):
    foreign = save_category(other_practice, None, {"name": "Fremd"})
    rule = category_rule(other_practice, foreign, lead_hours=[48])
    before = snapshot(other_practice)
    for url in (f"/reminder-rules/{rule.pk}/", f"/reminder-rules/{rule.pk}/delete/"):
        assert owner_client.get(url).status_code == 404
        assert post(owner_client, url, leads=(("2", "hours"),)).status_code == 404
    response = post(owner_client, "/reminder-rules/new/", category=str(foreign.pk))
    assert field_error(response.content, "category")
    assert "Fremd" not in owner_client.get(URL).content.decode()
    assert "Fremd" not in owner_client.get("/reminder-rules/new/").content.decode()
    assert snapshot(other_practice) == before


# ---------------------------------------------------------------- what a change affects


def test_a_change_applies_to_bookings_afterwards_not_to_scheduled_reminders(owner_client, practice):
    """What the page says: reminders already written keep their time."""
    patient = create_patient(
        practice,
        {
            "last_name": "Huber",
            "email": "h@example.at",
            "consent": {"email": {"granted": True, "source": "Bogen"}},
        },
    )
    start = (datetime.now(UTC) + timedelta(days=5)).replace(hour=9, minute=0, microsecond=0)

    def reminders(appointment) -> list[datetime]:
        rows = Message.objects.filter(appointment_id=appointment.pk, kind=Kind.REMINDER)
        return sorted(m.due_at for m in rows.exclude(state="cancelled"))

    data = {"patient_id": patient.pk, "start": start, "end": start + timedelta(minutes=30)}
    first, _ = services.create_appointment(practice, data)
    assert len(reminders(first)) == 1
    post(owner_client, leads=(("2", "days"), ("1", "days")))
    second, _ = services.create_appointment(practice, data)
    assert len(reminders(first)) == 1, "already scheduled: unchanged"
    zone = ZoneInfo(practice.timezone)
    assert reminders(second) == [lead_due(start, 48, zone), lead_due(start, 24, zone)]
