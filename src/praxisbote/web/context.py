"""Template context: the logged-in user's practice, for the header and scoping hints."""

from __future__ import annotations

from django.http import HttpRequest


def practice(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"current_practice": getattr(user, "practice", None) if user else None}
