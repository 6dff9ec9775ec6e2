"""Every staff page that takes an id refuses another practice's row: 404, nothing changed.

The pages come from the URL configuration, so a new page with an id is attacked
automatically; a new kind of id fails here until a factory for it is added.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import URLPattern, reverse
from tests.outreach import factories as outreach_factories

from praxisbote.messaging.services import MessageSpec, create_messages
from praxisbote.patients.services import create_patient, save_category
from praxisbote.practices.models import Practice
from praxisbote.practices.services import create_api_key
from praxisbote.web import urls as web_urls
from test_tenant_isolation import practice_snapshot

FACTORIES: dict[str, Callable[[Practice], Any]] = {
    "patient_id": lambda p: (
        create_patient(
            p,
            {
                "last_name": "Fremd",
                "mobile": "+4915123456789",
                "consent": {"sms": {"granted": True, "source": "Bogen"}},
            },
        ).pk
    ),
    "category_id": lambda p: save_category(p, None, {"name": "Fremd"}).pk,
    "notice_id": outreach_factories.mass_notice,
    "cancellation_id": outreach_factories.mass_cancellation,
    "entry_id": outreach_factories.waiting_entry,
    "offer_id": outreach_factories.slot_offer,
    "key_id": lambda p: create_api_key(p, "fremd").key.pk,
    # Scheduled for later, so that a cancel that slipped through scoping would change it.
    "message_id": lambda p: (
        create_messages(
            p,
            [
                MessageSpec(
                    channel="email",
                    to="fremd@example.de",
                    subject="Fremd",
                    text="Fremd",
                    send_at=datetime.now(UTC) + timedelta(days=1),
                )
            ],
        )
        .messages[0]
        .pk
    ),
    "appointment_id": lambda p: _appointment(p).pk,
    "rule_id": lambda p: _category_rule(p).pk,
}


def _category_rule(practice: Practice):
    from praxisbote.appointments.models import ReminderRule
    from praxisbote.appointments.services import save_rule

    category = save_category(practice, None, {"name": "Regel"})
    save_rule(practice, category, {"lead_hours": [48]})
    return ReminderRule.objects.get(practice=practice, category=category)


def _appointment(practice: Practice):
    from praxisbote.appointments.services import create_appointment

    patient = create_patient(
        practice,
        {"last_name": "Termin", "email": "t@y.de", "consent": {"email": {"granted": True}}},
    )
    start = datetime.now(UTC) + timedelta(days=3)
    return create_appointment(
        practice, {"patient_id": patient.pk, "start": start, "end": start + timedelta(hours=1)}
    )[0]


# A body that every form would accept for the victim's row, so only scoping can stop it.
BODY = {
    "last_name": "Gehackt",
    "name": "Gehackt",
    "channels": "own",
    "channel_1": "sms",
    "is_default": "on",
    "consent_sms_source": "gehackt",
    "date": "2030-01-07",
    "time": "10:00",
    "duration": "30",
    "renew_reminders": "yes",
    "notify_patient": "on",
}


# URL parts that name something of the caller's own practice, not a row id: the template
# editor's kind/channel/language (tests/web/test_templates.py checks it stays in its practice).
NOT_ROW_IDS = {"kind", "channel", "language"}


def id_pages() -> list[tuple[str, list[str]]]:
    pages = []
    for pattern in web_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        params = [p for p in pattern.pattern.converters if p not in NOT_ROW_IDS]
        if params:
            pages.append((pattern.name, params))
    return pages


def test_every_id_page_is_listed_here():
    unknown = {p for _, params in id_pages() for p in params} - FACTORIES.keys()
    assert not unknown, f"add a factory for URL parameters {unknown}"
    assert len(id_pages()) >= 8


@pytest.mark.parametrize("role", ["owner", "staff"])
def test_other_practices_rows_are_not_found_and_unchanged(
    owner_client, assistant_client, other_practice, role
):
    client = owner_client if role == "owner" else assistant_client
    ids = {name: factory(other_practice) for name, factory in FACTORIES.items()}
    before = practice_snapshot(other_practice)
    attempts = 0
    for name, params in id_pages():
        url = reverse(f"web:{name}", kwargs={p: ids[p] for p in params})
        for method in ("get", "post"):
            response = getattr(client, method)(url, BODY)
            attempts += 1
            # 405: a read-only page refuses POST before it looks up any row.
            allowed = {404} if method == "get" else {404, 405}
            assert response.status_code in allowed, (method, url, response.status_code)
    assert attempts >= 16
    assert practice_snapshot(other_practice) == before


def test_lists_and_choices_show_only_the_own_practice(owner_client, other_practice):
    ids = {name: factory(other_practice) for name, factory in FACTORIES.items()}
    assert "Fremd" not in owner_client.get("/patients/").content.decode()
    assert str(ids["patient_id"]) not in owner_client.get("/patients/?q=Fremd").content.decode()
    assert "Fremd" not in owner_client.get("/categories/").content.decode()
    assert "fremd" not in owner_client.get("/api-keys/").content.decode()
    form = owner_client.get("/patients/new/").content.decode()
    assert f'value="{ids["category_id"]}"' not in form


def test_another_practices_category_cannot_be_given_to_a_patient(owner_client, other_practice):
    foreign = FACTORIES["category_id"](other_practice)
    before = practice_snapshot(other_practice)
    response = owner_client.post(
        "/patients/new/", {"last_name": "Huber", "category": str(foreign), "channels": "category"}
    )
    assert response.status_code == 200
    assert 'id="id_category_error"' in response.content.decode()
    assert practice_snapshot(other_practice) == before


def test_every_page_needs_a_login(client, practice):
    ids = {name: factory(practice) for name, factory in FACTORIES.items()}
    ids.update(kind="reminder", channel="sms", language="de")
    for pattern in web_urls.urlpatterns:
        if pattern.name in ("login", "logout"):
            continue
        kwargs = {p: ids[p] for p in pattern.pattern.converters}
        url = reverse(f"web:{pattern.name}", kwargs=kwargs)
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/"), url
