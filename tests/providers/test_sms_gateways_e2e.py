"""Each gateway end to end: settings through the API, an SMS through the outbox to the
gateway's fake, and its delivery report through /hooks/sms/<gateway>/<token> to
"delivered" (Twilio's forged report refused with 403)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from tests.fakes import aspsms, generic, twilio, vonage, websms
from tests.messaging.conftest import drain

from praxisbote.messaging.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/channels/sms"
MOBILE = "+4367612345678"

GATEWAYS = {
    "websms": (websms.WebsmsFake, {"credentials": {"api_key": websms.TOKEN}}, "delivered"),
    "aspsms": (
        aspsms.AspsmsFake,
        {"credentials": {"userkey": aspsms.USERKEY, "password": aspsms.PASSWORD}},
        "delivered",
    ),
    "twilio": (
        twilio.TwilioFake,
        {
            "credentials": {"auth_token": twilio.AUTH_TOKEN},
            "options": {"account_sid": twilio.ACCOUNT_SID},
        },
        "delivered",
    ),
    "vonage": (
        vonage.VonageFake,
        {"credentials": {"api_key": vonage.API_KEY, "api_secret": vonage.API_SECRET}},
        "delivered",
    ),
    "generic": (
        generic.GenericFake,
        {
            "credentials": {"api_key": generic.PASSWORD},
            "options": {"preset": "firmensms", "username": generic.USER},
        },
        "DELIVERED",
    ),
}


@pytest.fixture(params=sorted(GATEWAYS))
def gateway(request):
    name = request.param
    fake_class, settings, delivered = GATEWAYS[name]
    fake = fake_class().start()
    yield name, fake, settings, delivered
    fake.stop()


def report(client, request):
    """Send the fake's delivery report to our hook through the test client."""
    parts = urlsplit(request.url)
    if request.method == "GET":
        return client.get(parts.path, dict(parse_qsl(parts.query)))
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
    return client.post(
        parts.path + (f"?{parts.query}" if parts.query else ""),
        request.body,
        content_type=request.headers.get("Content-Type", "application/octet-stream"),
        headers=headers,
    )


def test_sms_through_each_gateway_to_delivered(api, client, gateway):
    name, fake, settings, delivered = gateway
    body = {
        "gateway": name,
        "sender_id": "PraxisHuber",
        "base_url": fake.url,
        "sms_enabled": True,
        **settings,
    }
    response = api.put(URL, body)
    assert response.status_code == 200, response.content
    webhook_url = response.json()["webhook_url"]
    assert webhook_url.startswith(f"http://127.0.0.1:8000/hooks/sms/{name}/")
    if name == "generic":
        fake.callback = webhook_url  # firmensms: the report URL is set in its dashboard
    created = api.post(
        "/api/v1/messages",
        {"channel": "sms", "to": MOBILE, "text": "Ihr Termin morgen um 10:30 Uhr."},
    )
    assert created.status_code == 201, created.content
    drain()
    message = Message.objects.get(pk=created.json()["id"])
    assert message.state == "sent" and message.provider == name, message.state
    assert message.provider_message_id in fake.messages

    if name == "twilio":
        forged = fake.dlr_request(message.provider_message_id, "delivered", token="guessed")
        assert report(client, forged).status_code == 403
        message.refresh_from_db()
        assert message.state == "sent"

    answer = report(client, fake.dlr_request(message.provider_message_id, delivered))
    assert answer.status_code == 200, answer.content
    message.refresh_from_db()
    assert message.state == "delivered"
    assert message.events.last().payload  # the raw report is kept
