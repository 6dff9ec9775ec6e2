"""Mass notices (APT-9): audience filters, consent, cost preview, one campaign, problems."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.messaging.conftest import drain
from tests.outreach.conftest import make_patient, no_quiet_hours

from praxisbote.billing.services import add_credit
from praxisbote.messaging.models import Kind, Message, State
from praxisbote.outreach.models import MassNotice

TEXT = "Die Praxis ist vom 23.12. bis 6.1. geschlossen. Vertretung: Tel. 01 5559876"


@pytest.fixture(autouse=True)
def _daytime(practice):
    """These tests send "now"; the quiet hours have their own tests (test_quiet_hours.py)."""
    no_quiet_hours(practice)


def body(**extra):
    return {"channels": ["sms", "email"], "text": TEXT, "subject": "Praxisurlaub", **extra}


@pytest.fixture
def crowd(sms_practice, category):
    """Five patients: two reachable by SMS, one by e-mail only, three left out for reasons."""
    p = sms_practice
    return {
        "sms1": make_patient(
            p, "Adler", mobile="+4367612345601", consented=("sms",), category=category.pk
        ),
        "sms2": make_patient(
            p,
            "Berger",
            mobile="+4367612345602",
            email="b@example.org",
            consented=("sms", "email"),
            category=category.pk,
        ),
        "mail": make_patient(p, "Cerny", email="c@example.org", consented=("email",)),
        "no_consent": make_patient(p, "Dorn", email="d@example.org"),
        "no_address": make_patient(p, "Egger", consented=("sms",)),
        "opted_out": make_patient(
            p,
            "Fuchs",
            email="f@example.org",
            consented=("email",),
            notifications=["reminder"],
        ),
    }


def test_preview_counts_channels_costs_and_reasons_and_writes_nothing(api, crowd):
    response = api.post("/api/v1/mass-notices/preview", body())
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["recipients"] == 3
    assert data["by_channel"]["sms"]["count"] == 2  # Berger prefers SMS (her category)
    assert data["by_channel"]["email"]["count"] == 1
    assert data["skipped"] == {"no_consent": 1, "no_address": 1, "opted_out": 1}
    sms = data["by_channel"]["sms"]
    assert sms["units_each"] == 1 and sms["encoding"] == "GSM-7"
    assert Decimal(sms["price"]) == Decimal("0.10")
    # 2 SMS, 5 free this month: nothing to pay yet, the list price is still shown
    assert Decimal(sms["list_cost"]) == Decimal("0.20")
    assert sms["free_units_left"] == 5 and Decimal(sms["cost"]) == 0
    assert Decimal(data["by_channel"]["email"]["cost"]) == 0
    assert data["text"] == TEXT and data["subject"] == "Praxisurlaub"
    assert {s["name"] for s in data["sample"]} == {"Adler", "Berger", "Cerny"}
    assert len(data["fingerprint"]) == 64
    assert Message.objects.count() == 0 and MassNotice.objects.count() == 0


def test_given_order_puts_email_first_to_save_sms(api, crowd):
    data = api.post("/api/v1/mass-notices/preview", body(channels=["email", "sms"], order="given"))
    assert data.json()["by_channel"]["email"]["count"] == 2
    assert data.json()["by_channel"]["sms"]["count"] == 1


def test_long_sms_is_priced_per_segment_beyond_free_units(api, sms_practice):
    for i in range(4):
        make_patient(sms_practice, f"P{i}", mobile=f"+43676123456{i:02d}", consented=("sms",))
    add_credit(sms_practice, Decimal("10"))
    data = api.post("/api/v1/mass-notices/preview", body(channels=["sms"], text="x" * 200)).json()
    sms = data["by_channel"]["sms"]
    assert sms["units_each"] == 2 and sms["units"] == 8
    assert Decimal(sms["cost"]) == Decimal("0.30")  # 8 parts, 5 free, 3 x 0.10
    assert Decimal(data["cost"]) == Decimal("0.30") and data["enough_credit"] is True


def test_filters_narrow_the_audience(api, crowd, category):
    def count(**audience):
        return api.post("/api/v1/mass-notices/preview", body(audience=audience)).json()

    assert count(category_ids=[category.pk])["recipients"] == 2
    assert count(has_mobile=True)["recipients"] == 2
    assert count(has_mobile=False, has_email=True)["recipients"] == 1  # Cerny (Dorn, Fuchs out)
    assert count(consented_to=["email"])["recipients"] == 2
    assert count(q="Adler")["recipients"] == 1
    one = count(patient_ids=[str(crowd["mail"].pk)])
    assert one["recipients"] == 1 and one["skipped"] == {}


@pytest.mark.django_db(transaction=True)
def test_send_writes_one_campaign_through_the_outbox_and_the_worker_sends_it(api, crowd):
    preview = api.post("/api/v1/mass-notices/preview", body()).json()
    response = api.post("/api/v1/mass-notices", body(fingerprint=preview["fingerprint"]))
    assert response.status_code == 201, response.content
    notice = response.json()
    assert notice["recipients"] == 3 and notice["by_channel"] == {"sms": 2, "email": 1}
    assert notice["created_by"] == "API key test"
    rows = Message.objects.filter(campaign_id=notice["id"])
    assert rows.count() == 3
    assert {m.kind for m in rows} == {Kind.MASS}
    assert {m.body for m in rows} == {TEXT}
    assert {m.subject for m in rows if m.channel == "email"} == {"Praxisurlaub"}
    assert {m.patient.last_name for m in rows} == {"Adler", "Berger", "Cerny"}
    drain()
    detail = api.get(f"/api/v1/mass-notices/{notice['id']}").json()
    assert sum(detail["states"].values()) == 3
    assert set(detail["states"]) <= {"sent", "delivered"}
    listed = api.get("/api/v1/mass-notices").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == notice["id"]


def test_changed_selection_after_preview_is_409_and_nothing_is_written(api, crowd, sms_practice):
    preview = api.post("/api/v1/mass-notices/preview", body()).json()
    make_patient(sms_practice, "Neu", email="n@example.org", consented=("email",))
    response = api.post("/api/v1/mass-notices", body(fingerprint=preview["fingerprint"]))
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert Message.objects.count() == 0 and MassNotice.objects.count() == 0


def test_personalisation_and_bad_input_are_problems_with_fields(api, crowd):
    personal = api.post("/api/v1/mass-notices/preview", body(text="Hallo {{ patient.name }}"))
    assert personal.status_code == 422
    assert personal["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in personal.json()["errors"]] == ["text"]
    assert "patient" in personal.json()["errors"][0]["message"]
    syntax = api.post("/api/v1/mass-notices/preview", body(text="Hallo {{ practice.name "))
    assert [e["field"] for e in syntax.json()["errors"]] == ["text"]
    practice_ok = api.post("/api/v1/mass-notices/preview", body(text="{{ practice.name }}: zu"))
    assert practice_ok.json()["text"] == "Praxis Dr. Huber: zu"
    off = api.post("/api/v1/mass-notices/preview", body(channels=["threema"]))
    assert [e["field"] for e in off.json()["errors"]] == ["channels"]
    unknown = api.post("/api/v1/mass-notices/preview", body(channels=["fax"]))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "channels.0"
    empty = api.post("/api/v1/mass-notices", body(text="  ", order="random"))
    assert {e["field"] for e in empty.json()["errors"]} == {"text", "order"}
    cat = api.post("/api/v1/mass-notices/preview", body(audience={"category_ids": [999999]}))
    assert [e["field"] for e in cat.json()["errors"]] == ["audience.category_ids"]
    naive = api.post("/api/v1/mass-notices", body(send_at="2030-01-01T10:00:00"))
    assert [e["field"] for e in naive.json()["errors"]] == ["send_at"]
    nobody = api.post("/api/v1/mass-notices", body(audience={"q": "Niemand"}))
    assert nobody.status_code == 422 and nobody.json()["errors"][0]["field"] == "audience"
    assert Message.objects.count() == 0 and MassNotice.objects.count() == 0


def test_insufficient_credit_is_402_and_nothing_is_written(api, sms_practice):
    for i in range(6):
        make_patient(sms_practice, f"P{i}", mobile=f"+43676123456{i:02d}", consented=("sms",))
    response = api.post("/api/v1/mass-notices", body(channels=["sms"]))
    assert response.status_code == 402
    assert Decimal(response.json()["needed"]) == Decimal("0.10")  # 6 SMS, 5 free
    assert Message.objects.count() == 0 and MassNotice.objects.count() == 0


def test_idempotency_key_replays_and_refuses_another_body(api, crowd):
    first = api.post("/api/v1/mass-notices", body(), headers={"Idempotency-Key": "urlaub-1"})
    again = api.post("/api/v1/mass-notices", body(), headers={"Idempotency-Key": "urlaub-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Message.objects.count() == 3
    other = api.post(
        "/api/v1/mass-notices", body(text="anders"), headers={"Idempotency-Key": "urlaub-1"}
    )
    assert other.status_code == 409


def test_scheduled_notice_can_be_withdrawn_before_it_goes_out(api, crowd):
    notice = api.post("/api/v1/mass-notices", body(send_at="2030-01-01T10:00:00+01:00")).json()
    assert {m.state for m in Message.objects.all()} == {State.SCHEDULED}
    response = api.post(f"/api/v1/mass-notices/{notice['id']}/withdraw")
    assert response.json()["withdrawn"] == 3
    assert response.json()["states"] == {"cancelled": 3}


def test_another_practices_patients_are_never_in_the_audience(api, crowd, other_practice):
    other_practice.sms_enabled = True
    other_practice.save()
    stranger = make_patient(other_practice, "Fremd", email="x@example.org", consented=("email",))
    data = api.post(
        "/api/v1/mass-notices/preview", body(audience={"patient_ids": [str(stranger.pk)]})
    ).json()
    assert data["recipients"] == 0
    assert api.post("/api/v1/mass-notices/preview", body()).json()["recipients"] == 3
