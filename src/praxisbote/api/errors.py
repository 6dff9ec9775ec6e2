"""RFC 9457 problem details for every API error.

One shape for all failures: ``type``, ``title``, ``status``, ``detail`` and, for invalid
input, ``errors: [{"field": "mobile", "message": "…"}]`` naming each field.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

logger = logging.getLogger(__name__)
PROBLEM_TYPE = "https://praxisbote.org/problems/"
CONTENT_TYPE = "application/problem+json"


class Problem(Exception):
    """An error with a status and a reason for the integrator; raised by API handlers."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        slug: str = "",
        errors: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug or title.lower().replace(" ", "-")
        self.errors = errors
        self.extra = extra


def problem_response(problem: Problem) -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail or problem.title,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    body.update(problem.extra)
    response = JsonResponse(body, status=problem.status, content_type=CONTENT_TYPE)
    if problem.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="praxisbote"'
    return response


def field_errors_from_django(exc: DjangoValidationError) -> list[dict[str, Any]]:
    # Template problems (texts.services.TemplateInvalid) also name the line in the source.
    if problems := getattr(exc, "problems", None):
        return [{"field": p.field, "message": str(p), "line": p.line} for p in problems]
    if hasattr(exc, "error_dict"):
        return [
            {"field": field, "message": " ".join(messages)}
            for field, messages in exc.message_dict.items()
        ]
    return [{"field": "", "message": message} for message in exc.messages]


def invalid(errors: list[dict[str, str]]) -> Problem:
    return Problem(
        422,
        _("Invalid input"),
        "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors),
        slug="validation",
        errors=errors,
    )


def _pydantic_field(loc: list[Any] | tuple[Any, ...]) -> str:
    # loc is ("body", "payload", "mobile") or ("query", "limit"): drop the transport parts.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload")]
    return ".".join(parts)


def install(api: NinjaAPI) -> None:
    """Register the handlers that turn every failure into problem+json."""

    @api.exception_handler(Problem)
    def _problem(request: HttpRequest, exc: Problem) -> HttpResponse:
        return problem_response(exc)

    @api.exception_handler(NinjaValidationError)
    def _schema(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {"field": _pydantic_field(err.get("loc", [])), "message": err.get("msg", "")}
            for err in exc.errors
        ]
        return problem_response(invalid(errors))

    @api.exception_handler(DjangoValidationError)
    def _domain(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return problem_response(invalid(field_errors_from_django(exc)))

    @api.exception_handler(AuthenticationError)
    def _auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem_response(
            Problem(
                401,
                _("Not authenticated"),
                _("Send a valid API key as 'Authorization: Bearer <key>'."),
                slug="unauthenticated",
            )
        )

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem_response(
            Problem(404, _("Not found"), _("No such object in this practice."), slug="not-found")
        )

    @api.exception_handler(Exception)
    def _crash(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return problem_response(
            Problem(
                500,
                _("Internal error"),
                _("Something went wrong on our side; nothing was changed. Please try again."),
                slug="internal",
            )
        )

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem_response(Problem(exc.status_code, str(exc), slug="http-error"))
