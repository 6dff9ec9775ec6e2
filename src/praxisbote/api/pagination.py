"""``{"items": [...], "count": N}`` with ``limit``/``offset``: the one list shape of the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db.models import QuerySet
from ninja import Field, Schema

T = TypeVar("T")


class PageParams(Schema):
    limit: int = Field(settings.API_PAGE_DEFAULT, ge=1, le=settings.API_PAGE_MAX)
    offset: int = Field(0, ge=0)


class Page(Schema, Generic[T]):
    items: list[T]
    count: int


def paginate(
    qs: QuerySet, params: PageParams, render: Callable[[Any], Any] = lambda row: row
) -> dict[str, Any]:
    rows = qs[params.offset : params.offset + params.limit]
    return {"items": [render(row) for row in rows], "count": qs.count()}
