"""Reminder rules in the staff UI (APT-2): the practice's rule with the quiet hours, and one
rule per patient category.

Thin: ``appointments.services`` validates and saves rules (the same ``clean_rule`` as
``PUT /api/v1/reminder-rules``), ``practices.services.update_practice`` the quiet hours (as
``PATCH /api/v1/practice``). The owner changes rules; other staff see them read-only and get
403 on every change, and on the pages that only exist to change (new rule, delete).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from praxisbote.appointments import services
from praxisbote.appointments.models import ReminderRule
from praxisbote.patients.models import PatientCategory
from praxisbote.practices import services as practice_services
from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import get_scoped_or_404, scoped
from praxisbote.web.auth import practice_required, require_owner
from praxisbote.web.rule_forms import DefaultRuleForm, NewRuleForm, RuleForm, quiet_explained


def _is_owner(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_owner", False))


def _saved(request: HttpRequest) -> None:
    messages.success(
        request,
        _(
            "Reminder rules saved. They apply to appointments booked from now on; reminders "
            "already scheduled keep their time."
        ),
    )


@practice_required
def reminder_rules(request: HttpRequest, practice: Practice) -> HttpResponse:
    """The practice's rule and quiet hours (one form), and every category's rule."""
    read_only = not _is_owner(request)
    if request.method == "POST":
        require_owner(request)
    form = DefaultRuleForm(
        request.POST or None,
        rule=services.practice_rule(practice),
        practice=practice,
        read_only=read_only,
    )
    if request.method == "POST" and form.is_valid() and _save_default(practice, form):
        _saved(request)
        return redirect("web:reminder_rules")
    context = {
        "form": form,
        "read_only": read_only,
        "quiet": quiet_explained(practice),
        "categories": _category_rows(practice),
        "can_add": _free_categories(practice).exists(),
    }
    return render(request, "web/rules/list.html", context)


def _save_default(practice: Practice, form: DefaultRuleForm) -> bool:
    """Rule and quiet hours together or neither: every message of both services is shown
    next to its field, and nothing is written when one of them refuses."""
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        try:
            services.save_rule(practice, None, form.rule_data())
        except ValidationError as exc:
            errors.update(exc.message_dict)
        try:
            practice_services.update_practice(practice, form.quiet_data())
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            transaction.set_rollback(True)
    if errors:
        practice.refresh_from_db()  # update_practice may have set the refused values
        form.add_service_errors(ValidationError(errors))
        return False
    return True


def _category_rows(practice: Practice) -> list[dict[str, Any]]:
    """Every category with its own rule, or None where it follows the practice's rule."""
    own = {
        row.category_id: row
        for row in scoped(ReminderRule, practice).filter(category__isnull=False)
    }
    return [
        {"category": category, "rule": own.get(category.pk)}
        for category in scoped(PatientCategory, practice).order_by("name")
    ]


def _free_categories(practice: Practice):
    """Categories that have no rule of their own yet."""
    taken = scoped(ReminderRule, practice).filter(category__isnull=False).values("category_id")
    return scoped(PatientCategory, practice).exclude(pk__in=taken).order_by("name")


@practice_required
def reminder_rule_create(request: HttpRequest, practice: Practice) -> HttpResponse:
    """A category's own rule, starting from the practice's rule."""
    require_owner(request)
    free = _free_categories(practice)
    form = NewRuleForm(
        request.POST or None,
        rule=services.practice_rule(practice),
        categories=free,
        initial={"category": request.GET.get("category", "")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_rule(practice, form.cleaned_data["category"], form.rule_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            _saved(request)
            return redirect("web:reminder_rules")
    context = {
        "form": form,
        "category": None,
        "read_only": False,
        "has_free": free.exists(),
        "quiet": quiet_explained(practice),
    }
    return render(request, "web/rules/form.html", context)


def _category_rule(practice: Practice, rule_id: Any) -> ReminderRule:
    # The practice's own rule has no category and is not reachable here: it cannot be
    # deleted, and it is edited on the list page together with the quiet hours.
    return get_scoped_or_404(ReminderRule, practice, pk=rule_id, category__isnull=False)


@practice_required
def reminder_rule_edit(request: HttpRequest, practice: Practice, rule_id: int) -> HttpResponse:
    row = _category_rule(practice, rule_id)
    read_only = not _is_owner(request)
    if request.method == "POST":
        require_owner(request)
    form = RuleForm(request.POST or None, rule=services.rule_of(row), read_only=read_only)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_rule(practice, row.category, form.rule_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            _saved(request)
            return redirect("web:reminder_rules")
    context = {
        "form": form,
        "category": row.category,
        "rule": row,
        "read_only": read_only,
        "quiet": quiet_explained(practice),
    }
    return render(request, "web/rules/form.html", context)


@practice_required
def reminder_rule_delete(request: HttpRequest, practice: Practice, rule_id: int) -> HttpResponse:
    """Confirmation (GET), then the category follows the practice's rule again (POST)."""
    row = _category_rule(practice, rule_id)
    require_owner(request)
    if request.method == "POST":
        services.delete_category_rule(practice, row.category)
        messages.success(
            request,
            _("The rule of %(name)s was deleted: its patients follow the practice's rule again.")
            % {"name": row.category.name},
        )
        return redirect("web:reminder_rules")
    return render(request, "web/rules/delete.html", {"rule": row, "category": row.category})
