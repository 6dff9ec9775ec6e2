"""Staff pages for mass notices (APT-9): write, preview the cost, confirm, follow up.

Thin: ``outreach.mass`` selects, prices and writes; the page shows the preview and sends
only what the confirmed preview showed (its fingerprint travels in a hidden field).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from praxisbote.billing import services as billing
from praxisbote.messaging.models import Message
from praxisbote.outreach import mass
from praxisbote.outreach.models import MassNotice
from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import get_scoped_or_404, scoped
from praxisbote.web.auth import practice_required
from praxisbote.web.outreach_forms import MassNoticeForm

PAGE_SIZE = 50


@practice_required
@require_GET
def mass_notice_list(request: HttpRequest, practice: Practice) -> HttpResponse:
    page = Paginator(scoped(MassNotice, practice), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/outreach/mass_list.html", {"page": page})


@practice_required
def mass_notice_create(request: HttpRequest, practice: Practice) -> HttpResponse:
    initial: dict[str, Any] = {}
    if request.method != "POST":
        subject, text = mass.default_text(practice)
        initial = {"subject": subject, "text": text, "order": "patient"}
        initial["channels"] = [
            c for c, _l in MassNoticeForm(practice=practice).fields["channels"].choices
        ][:1]
    form = MassNoticeForm(
        request.POST if request.method == "POST" else None, practice=practice, initial=initial
    )
    planned = None
    if request.method == "POST" and form.is_valid():
        args = form.arguments()
        if "send" in request.POST and form.cleaned_data.get("fingerprint"):
            notice = _send(request, practice, form, args)
            if notice is not None:
                return redirect("web:mass_notice_detail", notice_id=notice.pk)
        try:
            planned = mass.preview(practice, **args)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            form.data = form.data.copy()
            form.data["fingerprint"] = planned.fingerprint
    return render(
        request,
        "web/outreach/mass_form.html",
        {
            "form": form,
            "planned": planned,
            "skipped": _skipped(planned.selection.skipped if planned else {}),
        },
    )


def _skipped(counts: dict[str, int]) -> list[tuple[str, int]]:
    """(reason in words, count); a Counter cannot go to a template (``.items`` is a key)."""
    return [(str(mass.SKIP_REASONS.get(r, r)), n) for r, n in sorted(counts.items())]


def _send(
    request: HttpRequest, practice: Practice, form: MassNoticeForm, args: dict[str, Any]
) -> MassNotice | None:
    try:
        notice, _replayed = mass.send(
            practice,
            **args,
            expected_fingerprint=form.cleaned_data["fingerprint"],
            created_by=request.user.email,  # type: ignore[union-attr]
        )
    except ValidationError as exc:
        form.add_service_errors(exc)
    except mass.FingerprintMismatch:
        form.add_error(
            None,
            _(
                "Not sent: the recipients or the text changed since the preview. Check the "
                "new figures below and confirm again."
            ),
        )
    except billing.InsufficientCredit as exc:
        form.add_error(
            None,
            _(
                "Not sent: the credit is not enough (%(needed)s %(cur)s needed, "
                "%(available)s %(cur)s available). Top up the credit, or send by e-mail, "
                "which costs nothing."
            )
            % {"needed": exc.needed, "available": exc.available, "cur": exc.currency},
        )
    else:
        messages.success(
            request,
            _("The mass notice is in the outbox: %(n)d messages.") % {"n": notice.recipients},
        )
        return notice
    return None


@practice_required
@require_GET
def mass_notice_detail(request: HttpRequest, practice: Practice, notice_id: Any) -> HttpResponse:
    notice = get_scoped_or_404(MassNotice, practice, pk=notice_id)
    rows = (
        scoped(Message, practice)
        .filter(campaign_id=notice.pk)
        .select_related("patient")
        .order_by("patient__last_name", "patient__first_name", "pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    states = mass.states_of(notice)
    context = {
        "notice": notice,
        "page": page,
        "states": states,
        "pending": states.get("scheduled", 0) + states.get("queued", 0),
        "skipped": _skipped(notice.skipped),
    }
    return render(request, "web/outreach/mass_detail.html", context)


@practice_required
def mass_notice_withdraw(request: HttpRequest, practice: Practice, notice_id: Any) -> HttpResponse:
    notice = get_scoped_or_404(MassNotice, practice, pk=notice_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    count = mass.withdraw(notice)
    messages.success(
        request, _("%(n)d messages that had not gone out yet were withdrawn.") % {"n": count}
    )
    return redirect("web:mass_notice_detail", notice_id=notice.pk)
