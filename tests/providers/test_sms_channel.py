"""SMS channel settings through the API, SMS through the outbox to the fake seven.io gateway,
and delivery reports by webhook and by polling."""

from __future__ import annotations

import json
import time

import pytest
from tests.fakes.seven import API_KEY, FakeSeven, SevenState, dlr_request
from tests.messaging.conftest import drain
from tests.messaging.conftest import fast_retries as fast_retries  # the fixture

from praxisbote.messaging import jobs
from praxisbote.messaging.models import ChannelAccount, Message

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/channels/sms"
MOBILE = "+4367612345678"


@pytest.fixture(scope="module")
def fake_server():
    server = FakeSeven().start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server):
    fake_server.state.__dict__.update(SevenState().__dict__)
    return fake_server


def seven(fake, **extra) -> dict:
    return {
        "gateway": "seven",
        "credentials": {"api_key": API_KEY},
        "sender_id": "PraxisHuber",
        "base_url": fake.base_url,
        "sms_enabled": True,
        **extra,
    }


def configured(api, fake, **extra) -> dict:
    response = api.put(URL, seven(fake, **extra))
    assert response.status_code == 200, response.content
    return response.json()


def send_sms(api, to: str = MOBILE, text: str = "Ihr Termin morgen um 10:30 Uhr.") -> dict:
    response = api.post("/api/v1/messages", {"channel": "sms", "to": to, "text": text})
    assert response.status_code == 201, response.content
    return response.json()


def hook_path(body: dict) -> str:
    return "/hooks/sms/seven/" + body["webhook_url"].rsplit("/", 1)[1]


def test_fresh_practice_is_in_test_mode_with_sms_off(api):
    body = api.get(URL).json()
    assert body["gateway"] == "sandbox" and body["test_mode"] is True
    assert body["sms_enabled"] is False and body["credentials_set"] == {}


def test_gateways_are_listed_with_their_needs(api):
    [gateway] = [g for g in api.get(f"{URL}/gateways").json() if g["name"] == "seven"]
    assert gateway["credentials"] == ["api_key"]
    assert gateway["supports_balance"] and gateway["supports_webhook"]


def test_put_stores_encrypted_and_never_returns_the_key(api, practice, fake):
    body = configured(api, fake)
    assert body["gateway"] == "seven" and body["test_mode"] is False
    assert body["sms_enabled"] is True
    assert body["credentials_set"] == {"api_key": True, "signing_secret": False}
    assert body["webhook_url"].startswith("http://127.0.0.1:8000/hooks/sms/seven/")
    assert len(body["webhook_url"].rsplit("/", 1)[1]) >= 40  # 256 random bits
    account = ChannelAccount.objects.get(practice=practice, channel="sms")
    token = body["webhook_url"].rsplit("/", 1)[1]
    assert API_KEY not in account.secrets and API_KEY not in json.dumps(account.config)
    assert token not in account.secrets
    # An empty key keeps the stored one, and the DLR URL stays the same.
    again = api.put(URL, seven(fake, credentials={"api_key": ""}))
    assert again.status_code == 200
    assert again.json()["credentials_set"]["api_key"] is True
    assert again.json()["webhook_url"] == body["webhook_url"]
    for response in (api.get(URL), again):
        assert API_KEY not in response.content.decode()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"gateway": "carrier-pigeon"}, "gateway", "Choose one of"),
        ({"sender_id": "Praxis Dr. Huber"}, "sender_id", "11 letters and digits"),
        ({"sender_id": "+43123456789012345"}, "sender_id", "16 digits"),
        ({"base_url": "ftp://gateway.example"}, "base_url", "http(s)"),
        ({"rate_limit": 0}, "rate_limit", "Between 0 and 1000"),
        ({"credentials": {}}, "credentials.api_key", "api_key"),
        ({"credentials": {"api_key": "k", "password": "x"}}, "credentials", "takes only"),
        ({"delivery_reports": "pigeon"}, "delivery_reports", "webhook"),
    ],
)
def test_put_refuses_bad_settings_by_field_and_stores_nothing(
    api, practice, fake, change, field, words
):
    response = api.put(URL, {**seven(fake), **change})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert field in errors and words in errors[field], errors
    assert not ChannelAccount.objects.filter(practice=practice, channel="sms").exists()
    practice.refresh_from_db()
    assert practice.sms_enabled is False  # nothing half-written


def test_key_check_and_balance(api, fake):
    assert api.get(f"{URL}/balance").status_code == 409  # test mode: nothing to ask
    configured(api, fake)
    fake.state.balance = 42.5
    check = api.post(f"{URL}/key-check").json()
    assert check["ok"] is True and check["balance"] == "42.5"
    assert api.get(f"{URL}/balance").json() == {"gateway": "seven.io", "balance": "42.5"}
    fake.state.keys = {"another-key"}
    bad = api.post(f"{URL}/key-check").json()
    assert bad["ok"] is False and "refused the access key" in bad["detail"]
    failed = api.get(f"{URL}/balance")
    assert failed.status_code == 502 and API_KEY not in failed.content.decode()


def test_no_sms_before_the_practice_allows_it(api, fake):
    configured(api, fake, sms_enabled=False)
    response = api.post("/api/v1/messages", {"channel": "sms", "to": MOBILE, "text": "Hallo"})
    assert response.status_code == 422
    assert "not switched on" in response.json()["errors"][0]["message"]
    assert api.post(f"{URL}/test", {"to": MOBILE}).status_code == 422
    assert Message.objects.count() == 0


def test_test_sms_goes_through_the_outbox(api, fake):
    configured(api, fake)
    # The practice's own number on file is a Vienna landline: refused with the reason.
    own = api.post(f"{URL}/test", {})
    assert own.status_code == 422 and "not a mobile number" in own.json()["detail"]
    response = api.post(f"{URL}/test", {"to": "0676 1234 5678"})
    assert response.status_code == 202
    assert response.json()["recipient"] == MOBILE and response.json()["state"] == "queued"
    assert not fake.state.sent  # nothing sent from the request
    drain()
    assert fake.state.sent[0].to == MOBILE
    assert Message.objects.get().state == "sent"


def test_sms_through_the_outbox_then_delivery_reports_by_webhook(api, client, fake):
    body = configured(api, fake)
    # Smart encoding keeps this GSM-7: one segment, not two UCS-2 ones.
    ok = send_sms(api, text="Termin „morgen“ \u2013 10:30 Uhr")
    lost = send_sms(api, to="+4367612340009")
    drain()
    delivered, undeliverable = (Message.objects.get(pk=m["id"]) for m in (ok, lost))
    assert delivered.segments == 1 and delivered.state == "sent"
    sent = {s.foreign_id: s for s in fake.state.sent}
    assert sent[str(delivered.pk)].text == 'Termin "morgen" - 10:30 Uhr'
    assert delivered.provider == "seven" and delivered.provider_message_id == sent[ok["id"]].id
    for message, raw in ((delivered, "DELIVERED"), (undeliverable, "NOTDELIVERED")):
        report, headers = dlr_request(message.provider_message_id, raw, body["webhook_url"])
        response = client.post(
            hook_path(body), report, content_type="application/json", headers=headers
        )
        assert response.status_code == 200 and response.content == b"OK"
    delivered.refresh_from_db()
    undeliverable.refresh_from_db()
    assert (delivered.state, undeliverable.state) == ("delivered", "undeliverable")
    event = undeliverable.events.last()
    assert event.detail == "seven.io: NOTDELIVERED"
    assert event.payload["data"]["status"] == "NOTDELIVERED"  # raw report kept


def test_webhook_refuses_unknown_urls_and_forged_reports(api, client, fake):
    body = configured(api, fake, credentials={"api_key": API_KEY, "signing_secret": "s3cret"})
    message = send_sms(api)
    drain()
    pid = Message.objects.get(pk=message["id"]).provider_message_id
    report, headers = dlr_request(pid, "DELIVERED", body["webhook_url"], "s3cret")
    token = body["webhook_url"].rsplit("/", 1)[1]
    for path in (f"/hooks/sms/seven/{token}x", f"/hooks/sms/websms/{token}", "/hooks/sms/seven/"):
        answer = client.post(path, report, content_type="application/json", headers=headers)
        assert answer.status_code == 404
    forged, forged_headers = dlr_request(pid, "DELIVERED", body["webhook_url"], "guessed")
    answer = client.post(
        hook_path(body), forged, content_type="application/json", headers=forged_headers
    )
    assert answer.status_code == 403
    assert Message.objects.get(pk=message["id"]).state == "sent"
    good = client.post(hook_path(body), report, content_type="application/json", headers=headers)
    assert good.status_code == 200
    assert Message.objects.get(pk=message["id"]).state == "delivered"


def test_one_practices_webhook_cannot_move_another_practices_sms(api, other_api, client, fake):
    mine = configured(api, fake)
    configured(other_api, fake)
    theirs = send_sms(other_api)
    drain()
    pid = Message.objects.get(pk=theirs["id"]).provider_message_id
    report, headers = dlr_request(pid, "NOTDELIVERED", mine["webhook_url"])
    answer = client.post(hook_path(mine), report, content_type="application/json", headers=headers)
    assert answer.status_code == 200  # acknowledged, but it names no message of ours
    assert Message.objects.get(pk=theirs["id"]).state == "sent"


def test_delivery_reports_by_polling(api, fake):
    configured(api, fake, delivery_reports="poll")
    ok, lost = send_sms(api), send_sms(api, to="+4367612340009")
    drain()
    assert jobs.poll_statuses() == 2
    states = {m["id"]: Message.objects.get(pk=m["id"]).state for m in (ok, lost)}
    assert states == {ok["id"]: "delivered", lost["id"]: "undeliverable"}


def test_webhook_accounts_are_not_polled(api, fake):
    configured(api, fake)  # delivery_reports defaults to webhook for seven
    send_sms(api)
    drain()
    assert jobs.poll_statuses() == 0


def test_throttling_backs_off_without_counting_a_failure(api, fake, fast_retries):
    configured(api, fake)
    fake.state.throttle_next, fake.state.retry_after = 1, 0
    message = send_sms(api)
    for _ in range(100):  # the retry waits its (tiny) backoff before it is due again
        drain()
        if Message.objects.get(pk=message["id"]).state == "sent":
            break
        time.sleep(0.02)
    row = Message.objects.get(pk=message["id"])
    assert row.state == "sent"
    assert row.attempts == 1  # the throttled attempt is not counted
    steps = [(e.from_state, e.to_state) for e in row.events.all()]
    assert ("sending", "queued") in steps
    assert "slow down" in row.events.filter(to_state="queued").last().detail


def test_wrong_key_fails_with_a_readable_reason_and_releases_credit(api, fake):
    configured(api, fake, credentials={"api_key": "not-the-key"})
    message = send_sms(api)
    drain()
    row = Message.objects.get(pk=message["id"])
    assert row.state == "failed" and "refused the access key" in row.last_error
    assert "not-the-key" not in row.last_error
    assert row.reserved is False


def test_switching_back_to_test_mode(api, practice, fake):
    configured(api, fake)
    body = api.put(URL, {"gateway": "sandbox"}).json()
    assert body["test_mode"] is True and body["webhook_url"] == ""
    send_sms(api)
    drain()
    assert not fake.state.sent  # the sandbox kept it on this server


def test_reports_still_arrive_in_test_mode_and_switching_back_keeps_the_key(api, client, fake):
    """SMS handed to the gateway before a switch to test mode must not lose their reports."""
    body = configured(api, fake)
    message = send_sms(api)
    drain()
    sent = Message.objects.get(pk=message["id"])
    assert sent.state == "sent"
    assert api.put(URL, {"gateway": "sandbox"}).json()["test_mode"] is True
    report, headers = dlr_request(sent.provider_message_id, "DELIVERED", body["webhook_url"])
    answer = client.post(hook_path(body), report, content_type="application/json", headers=headers)
    assert answer.status_code == 200
    sent.refresh_from_db()
    assert sent.state == "delivered"
    # Back to seven without typing the key again: the kept one is used.
    back = {k: v for k, v in seven(fake).items() if k != "credentials"}
    again = api.put(URL, back)
    assert again.status_code == 200, again.content
    assert again.json()["webhook_url"] == body["webhook_url"]
    send_sms(api, text="Wieder echt.")
    drain()
    assert [s.text for s in fake.state.sent][-1] == "Wieder echt."


def test_other_gateways_are_configured_through_the_same_service(api):
    sid = "AC" + "0123456789abcdef" * 2
    token = {"auth_token": "tok"}
    twilio = api.put(
        URL, {"gateway": "twilio", "credentials": token, "options": {"account_sid": sid}}
    )
    assert twilio.status_code == 200, twilio.content
    body = twilio.json()
    assert body["options"] == {"account_sid": sid}
    assert body["webhook_url"].startswith("http://127.0.0.1:8000/hooks/sms/twilio/")
    bad_sid = api.put(
        URL, {"gateway": "twilio", "credentials": token, "options": {"account_sid": "x"}}
    )
    assert {e["field"] for e in bad_sid.json()["errors"]} == {"options.account_sid"}
    # Switching gateway drops the old gateway's credentials: websms needs its own key.
    websms = api.put(URL, {"gateway": "websms", "delivery_reports": "poll"})
    fields = {e["field"] for e in websms.json()["errors"]}
    assert fields == {"credentials.api_key", "delivery_reports"}
    assert api.get(URL).json()["gateway"] == "twilio"  # nothing stored on refusal
