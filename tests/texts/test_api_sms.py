"""POST /api/v1/sms/analyze: encoding, segments, cost at the practice's price, smart encoding."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client

from praxisbote.billing.models import CreditAccount
from praxisbote.billing.services import account_for

URL = "/api/v1/sms/analyze"
QUOTED = "\u201eHallo\u201c " + "x" * 70  # 78 UCS-2 units: 2 SMS; GSM-7 after smart: 1


def test_needs_an_api_key(db):
    response = Client().post(URL, {"text": "Hallo"}, content_type="application/json")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_gsm_text_costs_segments_times_list_price(api, practice):
    body = api.post(URL, {"text": "Hallo"}).json()
    assert body["encoding"] == "GSM-7"
    assert (body["segments"], body["characters"], body["units"]) == (1, 5, 5)
    assert body["remaining_in_segment"] == 155
    assert body["non_gsm_characters"] == []
    assert body["cost"] == "0.1000"  # a decimal string; free monthly units are ignored
    assert body["price_per_segment"] == "0.1000"
    assert body["currency"] == "EUR"


def test_cost_follows_a_changed_price(api, practice):
    CreditAccount.objects.filter(pk=account_for(practice).pk).update(price_sms=Decimal("0.079"))
    body = api.post(URL, {"text": "x" * 161}).json()
    assert body["segments"] == 2
    assert Decimal(body["cost"]) == Decimal("0.158")


def test_each_practice_pays_its_own_price(api, other_api, other_practice):
    CreditAccount.objects.filter(pk=account_for(other_practice).pk).update(
        price_sms=Decimal("0.05")
    )
    assert Decimal(other_api.post(URL, {"text": "x"}).json()["cost"]) == Decimal("0.05")
    assert Decimal(api.post(URL, {"text": "x"}).json()["cost"]) == Decimal("0.10")


def test_ucs2_counts_units_and_names_the_characters(api):
    body = api.post(URL, {"text": "Gr\u00fc\u00df dich \U0001f600 " + "\u0416" * 59}).json()
    assert body["encoding"] == "UCS-2"
    assert body["units"] == 72  # the emoji is a surrogate pair
    assert body["segments"] == 2
    assert body["remaining_in_segment"] == 67 - (72 - 67)
    assert body["non_gsm_characters"] == ["\U0001f600", "\u0416"]
    assert Decimal(body["cost"]) == Decimal("0.20")


def test_empty_text_is_no_sms(api):
    body = api.post(URL, {"text": ""}).json()
    assert (body["segments"], body["cost"]) == (0, "0.0000")


def test_bad_input_is_a_422_problem(api):
    missing = api.post(URL, {})
    assert missing.status_code == 422
    assert missing["Content-Type"] == "application/problem+json"
    assert missing.json()["errors"][0]["field"] == "text"
    too_long = api.post(URL, {"text": "x" * 10_001})
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "text"
    assert api.post(URL, {"text": 42}).status_code == 422
    assert api.post(URL, {"text": "x" * 10_000}).json()["segments"] == 66  # 10000 / 153


def test_smart_encoding_on_by_default_shows_changes_and_saving(api):
    body = api.post(URL, {"text": QUOTED}).json()
    assert (body["encoding"], body["segments"], body["cost"]) == ("GSM-7", 1, "0.1000")
    smart = body["smart"]
    assert smart["enabled"] is True
    assert smart["applies"] is True
    assert smart["text"] == '"Hallo" ' + "x" * 70
    assert smart["changes"] == [
        {"from": "\u201e", "to": '"', "count": 1},
        {"from": "\u201c", "to": '"', "count": 1},
    ]
    assert (smart["encoding_before"], smart["encoding_after"]) == ("UCS-2", "GSM-7")
    assert (smart["segments_before"], smart["segments_after"]) == (2, 1)
    assert (smart["cost_before"], smart["cost_after"], smart["saving"]) == (
        "0.2000",
        "0.1000",
        "0.1000",
    )


def test_smart_encoding_off_shows_what_it_would_save(api):
    assert api.patch("/api/v1/practice", {"sms_smart_encoding": False}).status_code == 200
    body = api.post(URL, {"text": QUOTED}).json()
    assert (body["encoding"], body["segments"], body["cost"]) == ("UCS-2", 2, "0.2000")
    assert body["non_gsm_characters"] == ["\u201e", "\u201c"]
    assert body["smart"]["enabled"] is False
    assert body["smart"]["applies"] is True
    assert body["smart"]["saving"] == "0.1000"
    # a request can ask either way, whatever the setting
    assert api.post(URL, {"text": QUOTED, "smart": True}).json()["segments"] == 1


def test_request_can_turn_smart_encoding_off(api):
    body = api.post(URL, {"text": QUOTED, "smart": False}).json()
    assert (body["encoding"], body["segments"]) == ("UCS-2", 2)
    assert body["smart"]["enabled"] is False


def test_emoji_keeps_ucs2_and_is_named(api):
    body = api.post(URL, {"text": "\u201eHallo\u201c \U0001f600"}).json()
    assert body["encoding"] == "UCS-2"
    smart = body["smart"]
    assert (smart["applies"], smart["changes"], smart["kept"]) == (False, [], ["\U0001f600"])
    assert smart["saving"] == "0.0000"


def test_openapi_documents_the_endpoint(api):
    schema = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/sms/analyze" in schema["paths"]
