"""Bearer API keys: ``request.auth`` is the ApiKey, ``practice_of(request)`` its practice."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from praxisbote.practices.models import ApiKey, Practice
from praxisbote.practices.services import authenticate_api_key


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return authenticate_api_key(token)


def practice_of(request: HttpRequest) -> Practice:
    return request.auth.practice  # type: ignore[attr-defined]
