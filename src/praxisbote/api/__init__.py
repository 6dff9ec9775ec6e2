"""The REST API under /api/v1: thin handlers over the domain modules."""

from ninja import NinjaAPI

from praxisbote import __version__
from praxisbote.api import email, errors, messages, patients, practices, webhooks
from praxisbote.api.auth import ApiKeyAuth

api = NinjaAPI(
    title="praxisbote API",
    version=__version__,
    description=(
        "Messaging for healthcare practices. Authenticate with `Authorization: Bearer <key>`. "
        "Errors are RFC 9457 problem+json; lists are `{items, count}` with `limit`/`offset`."
    ),
    auth=ApiKeyAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)
api.add_router("", practices.router)
api.add_router("", patients.router)
api.add_router("", messages.router)
api.add_router("", webhooks.router)
api.add_router("", email.router)
api.add_router("", "praxisbote.api.sms.router")
api.add_router("", "praxisbote.api.sms_channel.router")
api.add_router("", "praxisbote.api.templates.router")
api.add_router("", "praxisbote.api.appointments.router")
api.add_router("", "praxisbote.api.mass_notices.router")
api.add_router("", "praxisbote.api.outreach.router")
api.add_router("", "praxisbote.api.mass_cancellations.router")
api.add_router("", "praxisbote.api.slot_offers.router")
