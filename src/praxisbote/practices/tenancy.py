"""Tenant scoping: the one place where rows are narrowed to a practice.

Every API handler and staff view reads and writes practice-owned rows through
``scoped(Model, practice)`` (or ``Model.objects.for_practice``). A row of another
practice is therefore simply not found: 404, never 403, so ids do not leak.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from praxisbote.practices.models import Practice

M = TypeVar("M", bound=models.Model)


class TenantQuerySet(models.QuerySet):
    def for_practice(self, practice: Practice) -> TenantQuerySet:
        if practice is None:
            raise ValueError("tenant-scoped query without a practice")
        return self.filter(practice=practice)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Default manager of every practice-owned model."""


def scoped(model: type[M], practice: Practice) -> models.QuerySet[M]:
    """All rows of ``model`` that belong to ``practice``."""
    return model.objects.for_practice(practice)  # type: ignore[attr-defined]


def get_scoped_or_404(model: type[M], practice: Practice, **lookup: Any) -> M:
    """One row of the practice, or 404 when it does not exist or belongs to another."""
    try:
        return scoped(model, practice).get(**lookup)
    # A malformed id (ValidationError/ValueError from the field) is "not found" as well.
    except (model.DoesNotExist, ValidationError, ValueError, TypeError) as exc:  # type: ignore[attr-defined]
        raise Http404(model.__name__) from exc
