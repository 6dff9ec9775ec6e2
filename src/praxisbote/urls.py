"""URL map: staff UI at /, REST API at /api/v1, health at /healthz."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path

from praxisbote.api import api
from praxisbote.messaging.sms_hooks import sms_report


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and operators."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics; restrict access at the reverse proxy (docs/operations.md)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from praxisbote.messaging.metrics import REGISTRY

    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


urlpatterns = [
    path("metrics", metrics, name="metrics"),
    path("api/v1/", api.urls),
    path("healthz", healthz, name="healthz"),
    path("hooks/sms/<str:gateway>/<str:token>", sms_report, name="sms-report"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("praxisbote.portal.urls")),
    path("", include("praxisbote.web.urls")),
]
