"""Every API endpoint that takes an id refuses another practice's row: 404, nothing changed.

The endpoints come from the OpenAPI spec, so a new endpoint is attacked automatically; a new
kind of path parameter fails here until a factory for it is added to ``FACTORIES``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.core import serializers
from django.test import Client
from tests.outreach import factories as outreach_factories

from praxisbote.messaging.services import MessageSpec, create_messages
from praxisbote.patients.services import create_patient, save_category
from praxisbote.practices.models import Practice
from praxisbote.texts.services import save_template

FACTORIES: dict[str, Callable[[Practice], Any]] = {
    "patient_id": lambda p: (
        create_patient(p, {"last_name": "Fremd", "mobile": "+4367612345678", "email": "x@y.at"}).pk
    ),
    "category_id": lambda p: save_category(p, None, {"name": "Fremd"}).pk,
    "message_id": lambda p: (
        create_messages(p, [MessageSpec(channel="email", to="x@y.at", text="Hallo")]).messages[0].pk
    ),
    "notice_id": outreach_factories.mass_notice,
    "cancellation_id": outreach_factories.mass_cancellation,
    "entry_id": outreach_factories.waiting_entry,
    "offer_id": outreach_factories.slot_offer,
    "template_id": lambda p: (
        save_template(p, {"kind": "reminder", "channel": "sms", "language": "de", "text": "x"}).pk
    ),
    "appointment_id": lambda p: _appointment(p).pk,
}


def _appointment(practice: Practice):
    from datetime import UTC, datetime, timedelta

    from praxisbote.appointments.services import create_appointment

    patient = create_patient(
        practice,
        {"last_name": "Termin", "email": "t@y.at", "consent": {"email": {"granted": True}}},
    )
    start = datetime.now(UTC) + timedelta(days=3)
    return create_appointment(
        practice, {"patient_id": patient.pk, "start": start, "end": start + timedelta(hours=1)}
    )[0]


# Path parameters that name something of the caller's own practice, not a row id.
NOT_ROW_IDS = {"channel"}

# Bodies that would be valid for the victim's row, so that only scoping can stop them.
BODIES: dict[str, dict[str, Any]] = {
    "patch": {"last_name": "Gehackt", "name": "Gehackt", "location": "Gehackt"},
    "put": {"name": "Gehackt"},
    "post": {"start": "2030-01-01T10:00:00+01:00", "notify_patient": True},
}


def practice_snapshot(practice: Practice) -> str:
    """Every row owned by ``practice`` (and the practice itself), serialised."""
    rows: list[Any] = [practice]
    for model in apps.get_models():
        if any(f.name == "practice" for f in model._meta.get_fields()):
            rows.extend(model._default_manager.filter(practice=practice).order_by("pk"))
    return serializers.serialize("json", rows)


def id_endpoints(spec: dict) -> list[tuple[str, str, list[str]]]:
    found = []
    for path, methods in spec["paths"].items():
        params = [p for p in re.findall(r"{(\w+)}", path) if p not in NOT_ROW_IDS]
        if not params:
            continue
        for method in methods:
            found.append((method, path, params))
    return found


def test_every_id_endpoint_is_listed_here(db):
    spec = Client().get("/api/v1/openapi.json").json()
    unknown = {p for _, _, params in id_endpoints(spec) for p in params} - FACTORIES.keys()
    assert not unknown, f"add a factory for path parameters {unknown}"
    assert id_endpoints(spec), "the spec has endpoints with ids"


def test_other_practices_rows_are_not_found_and_unchanged(api, other_practice):
    spec = Client().get("/api/v1/openapi.json").json()
    ids = {name: factory(other_practice) for name, factory in FACTORIES.items()}
    before = practice_snapshot(other_practice)
    attempts = 0
    for method, path, params in id_endpoints(spec):
        url = path.format(**{name: ids[name] for name in params})
        call = getattr(api, method)
        response = call(url, BODIES.get(method)) if method in BODIES else call(url)
        attempts += 1
        assert response.status_code == 404, (method, url, response.status_code, response.content)
        assert response["Content-Type"] == "application/problem+json"
    assert attempts >= 5
    assert practice_snapshot(other_practice) == before


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_malformed_and_unknown_ids_are_plain_404_or_422(api, bad_id):
    response = api.get(f"/api/v1/patients/{bad_id}")
    assert response.status_code in (404, 422)
    assert response["Content-Type"] == "application/problem+json"
