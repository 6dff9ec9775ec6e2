"""The send protocol in the staff UI (MSG-4): list, filters, one message, cancelling."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from praxisbote.messaging.models import DeliveryEvent, Kind, Message, State
from praxisbote.messaging.services import MessageSpec, create_messages
from praxisbote.patients.services import create_patient, erase_patient

from .helpers import de, text


def send(practice, **fields) -> Message:
    fields.setdefault("channel", "email")
    fields.setdefault("text", "Hallo")
    if not fields.get("patient_id"):
        fields.setdefault("to", "anna@example.org")
    return create_messages(practice, [MessageSpec(**fields)]).messages[0]


def rows(content: bytes) -> list[str]:
    """The protocol table's body rows, as text."""
    body = re.search(r"<tbody>(.*?)</tbody>", content.decode(), re.S)
    return [text(r) for r in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)] if body else []


def test_the_protocol_lists_newest_first_with_every_column(owner_client, practice, patient):
    older = send(practice, patient_id=patient.pk, subject="Termin")
    Message.objects.filter(pk=older.pk).update(
        created_at=datetime(2026, 3, 2, 7, 5, tzinfo=UTC),
        state=State.FAILED,
        last_error="550 mailbox unavailable",
    )
    send(practice, to="karl@example.org", text="Neu")
    response = owner_client.get("/protocol/")
    assert response.status_code == 200
    first, second = rows(response.content)
    assert "karl@example.org" in first
    assert "Anna Huber" in second and "anna@example.at" in second
    assert "02.03.2026 08:05" in second, "time in the practice's zone (Vienna, UTC+1)"
    assert de("free text") in second and de("E-mail") in second
    assert de("failed") in second and "550 mailbox unavailable" in second
    page = response.content.decode()
    assert f'href="/patients/{patient.pk}/"' in page, "the patient's name links to the patient"
    assert f'href="/protocol/{older.pk}/"' in page
    assert '<span class="state state-failed">' in page


def test_every_state_has_a_coloured_badge_with_its_translated_name(owner_client, practice):
    for state in State.values:
        message = send(practice)
        Message.objects.filter(pk=message.pk).update(state=state)
    page = owner_client.get("/protocol/").content.decode()
    for state, label in State.choices:
        assert f'<span class="state state-{state}">{de(str(label))}</span>' in page
    css = owner_client.get("/static/web/app.css")
    stylesheet = b"".join(css.streaming_content).decode() if css.streaming else css.content.decode()
    for state in State.values:
        assert f".state-{state}" in stylesheet, f"no colour for {state}"


def test_filters_by_patient_channel_state_and_kind(owner_client, practice, patient):
    practice.sms_enabled = True
    practice.save()
    to_anna = send(practice, patient_id=patient.pk)
    sms = send(practice, channel="sms", to="+4367612345679", text="SMS an Karl")
    reminder = send(practice, to="berta@example.org", kind=Kind.REMINDER)
    Message.objects.filter(pk=reminder.pk).update(state=State.DELIVERED)

    def listed(query: str) -> set:
        page = owner_client.get(f"/protocol/?{query}").content.decode()
        return {m for m in (to_anna, sms, reminder) if f"/protocol/{m.pk}/" in page}

    assert listed("") == {to_anna, sms, reminder}
    assert listed(f"patient={patient.pk}") == {to_anna}
    assert listed("q=Huber") == {to_anna}, "search by the patient's name"
    assert listed("q=berta@") == {reminder}, "search by the address"
    assert listed("channel=sms") == {sms}
    assert listed("state=delivered") == {reminder}
    assert listed("kind=reminder") == {reminder}
    assert listed("channel=email&state=queued") == {to_anna}


def test_the_patient_filter_names_the_patient(owner_client, practice, patient):
    send(practice, patient_id=patient.pk)
    page = text(owner_client.get(f"/protocol/?patient={patient.pk}").content)
    assert de("Messages to %(name)s").replace("%(name)s", "Anna Huber") in page


def test_the_date_range_is_read_in_the_practice_time_zone(owner_client, practice):
    # 23:30 UTC on 1 March is already 2 March in Vienna.
    late = send(practice, to="late@example.org")
    Message.objects.filter(pk=late.pk).update(created_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    early = send(practice, to="early@example.org")
    Message.objects.filter(pk=early.pk).update(created_at=datetime(2026, 3, 1, 22, 30, tzinfo=UTC))

    def listed(query: str) -> set[str]:
        return {r.split()[3] for r in rows(owner_client.get(f"/protocol/?{query}").content)}

    assert listed("date_from=2026-03-02") == {"late@example.org"}
    assert listed("date_to=2026-03-01") == {"early@example.org"}
    assert listed("date_from=2026-03-01&date_to=2026-03-02") == {
        "late@example.org",
        "early@example.org",
    }


def test_a_wrong_filter_is_named_and_the_others_still_apply(owner_client, practice):
    send(practice, to="anna@example.org")
    response = owner_client.get("/protocol/?state=lost&date_from=2026-13-45&q=anna")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_state_error"' in page and 'id="id_date_from_error"' in page
    assert len(rows(response.content)) == 1
    end_before_start = owner_client.get("/protocol/?date_from=2026-03-02&date_to=2026-03-01")
    assert 'id="id_date_to_error"' in end_before_start.content.decode()


def test_the_protocol_is_paginated_and_the_pages_keep_the_filters(owner_client, practice):
    create_messages(
        practice,
        [MessageSpec(channel="email", to=f"p{i}@example.org", text="x") for i in range(55)],
        batch=True,
    )
    first = owner_client.get("/protocol/?channel=email")
    assert len(rows(first.content)) == 50
    assert "?channel=email&amp;page=2" in first.content.decode()
    second = owner_client.get("/protocol/?channel=email&page=2")
    assert len(rows(second.content)) == 5


def test_an_empty_protocol_says_what_to_do(owner_client, practice):
    page = text(owner_client.get("/protocol/").content)
    assert (
        de("No messages yet. Write one, or let your practice software send them through the API.")
        in page
    )


def test_a_message_shows_all_fields_its_timeline_and_attachments(owner_client, practice, patient):
    message = send(
        practice,
        patient_id=patient.pk,
        subject="Ihr Befund",
        text="Guten Tag,\nanbei der Befund.",
        attachments=[
            {
                "filename": "befund.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(b"%PDF-1.4 " + b"x" * 2000).decode(),
            }
        ],
    )
    DeliveryEvent.objects.create(
        message=message,
        at=datetime(2026, 7, 1, 10, 0, 5, tzinfo=UTC),
        from_state="queued",
        to_state="sending",
        detail="claimed by worker-1",
        payload={"provider": {"status": "accepted", "id": "abc-123"}},
    )
    response = owner_client.get(f"/protocol/{message.pk}/")
    assert response.status_code == 200
    page = text(response.content)
    for expected in (
        "Ihr Befund",
        "anbei der Befund.",
        "anna@example.at",
        "Anna Huber",
        str(message.pk),
        "befund.pdf",
        "application/pdf",
        "2,0 KB",
        de("claimed by %(worker)s") % {"worker": "worker-1"},  # stored English, shown German
        "01.07.2026 12:00:05",  # Vienna summer time, UTC+2
        de("test mode: nothing leaves this server"),
    ):
        assert expected in page, expected
    html = response.content.decode()
    assert "<details>" in html and "&quot;abc-123&quot;" in html, "raw payload, collapsed"
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', html, re.S).group(1)
    assert timeline.index(de("queued")) < timeline.index(de("sending"))


@pytest.mark.parametrize("role", ["owner", "staff"])
def test_a_waiting_message_can_be_cancelled(owner_client, assistant_client, practice, role):
    client = owner_client if role == "owner" else assistant_client
    later = send(practice, send_at=datetime.now(UTC) + timedelta(days=2))
    assert later.state == State.SCHEDULED
    page = client.get(f"/protocol/{later.pk}/").content.decode()
    assert f'action="/protocol/{later.pk}/cancel/"' in page
    response = client.post(f"/protocol/{later.pk}/cancel/")
    assert response.status_code == 302
    assert response["Location"] == f"/protocol/{later.pk}/"
    later.refresh_from_db()
    assert later.state == State.CANCELLED
    assert later.events.last().to_state == State.CANCELLED
    page = client.get(f"/protocol/{later.pk}/")
    assert de("The message was cancelled; it will not be sent.") in text(page.content)
    assert "/cancel/" not in page.content.decode(), "no button once it is final"


def test_a_sent_message_cannot_be_cancelled(owner_client, practice):
    message = send(practice)
    Message.objects.filter(pk=message.pk).update(state=State.SENT)
    assert "/cancel/" not in owner_client.get(f"/protocol/{message.pk}/").content.decode()
    response = owner_client.post(f"/protocol/{message.pk}/cancel/", follow=True)
    message.refresh_from_db()
    assert message.state == State.SENT
    refusal = de(
        "Too late to cancel: the message is %(state)s. Only scheduled or waiting "
        "messages can be cancelled."
    ) % {"state": de("sent")}
    assert refusal in text(response.content)
    assert message.events.filter(to_state=State.CANCELLED).count() == 0


def test_cancel_needs_a_post(owner_client, practice):
    message = send(practice)
    assert owner_client.get(f"/protocol/{message.pk}/cancel/").status_code == 405
    message.refresh_from_db()
    assert message.state == State.QUEUED


def test_the_patient_page_lists_the_patients_messages_and_links_the_protocol(
    owner_client, practice, patient
):
    message = send(practice, patient_id=patient.pk)
    send(practice, to="someone@example.org")
    page = owner_client.get(f"/patients/{patient.pk}/").content.decode()
    assert f'href="/protocol/?patient={patient.pk}"' in page
    assert f'href="/messages/new/?patient={patient.pk}"' in page
    assert f'href="/protocol/{message.pk}/"' in page
    assert de("Messages") in text(page)
    assert text(page).count(de("queued")) == 1


def test_messages_to_an_erased_patient_stay_listed_without_personal_data(
    owner_client, practice, patient
):
    message = send(practice, patient_id=patient.pk, text="Ihr Befund ist da")
    Message.objects.filter(pk=message.pk).update(state=State.SENT)
    erase_patient(patient)
    listing = text(owner_client.get("/protocol/").content)
    assert de("erased patient") in listing
    assert "Anna" not in listing and "anna@example.at" not in listing
    detail = owner_client.get(f"/protocol/{message.pk}/")
    assert "Ihr Befund" not in text(detail.content)


def test_other_practices_messages_are_never_listed(owner_client, practice, other_practice):
    foreign_patient = create_patient(other_practice, {"last_name": "Fremd", "email": "f@x.de"})
    foreign = send(other_practice, patient_id=foreign_patient.pk)
    send(practice)
    for url in ("/protocol/", f"/protocol/?patient={foreign_patient.pk}", "/protocol/?q=Fremd"):
        page = owner_client.get(url).content.decode()
        assert str(foreign.pk) not in page and "f@x.de" not in page, url
    assert "Fremd" not in text(owner_client.get(f"/protocol/?patient={foreign_patient.pk}").content)
