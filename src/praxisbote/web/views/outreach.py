"""Staff pages for mass notices (APT-9), birthday/recall settings (APT-8) and recalls (APT-7).

Thin: ``outreach.mass`` selects, prices and writes; the page shows the preview and sends
only what the confirmed preview showed (its fingerprint travels in a hidden field).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from praxisbote.appointments.models import Appointment, Status
from praxisbote.appointments.rules import quiet_hours_of
from praxisbote.billing import services as billing
from praxisbote.messaging.models import Message
from praxisbote.messaging.services import _is_uuid
from praxisbote.outreach import mass, mass_cancel, offers, waiting
from praxisbote.outreach.models import MassCancellation, MassNotice, SlotOffer, WaitingListEntry
from praxisbote.outreach.recalls import (
    delete_recall,
    describe,
    list_recalls,
    recall_of,
    save_recall,
)
from praxisbote.outreach.settings import moved_hours, save_settings, settings_of
from praxisbote.patients.models import Patient
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import get_scoped_or_404, scoped
from praxisbote.web import patient_picker
from praxisbote.web.auth import practice_required, require_owner
from praxisbote.web.outreach_forms import (
    MassCancelRangeForm,
    MassNoticeForm,
    OfferForm,
    OutreachSettingsForm,
    RecallForm,
    WaitingEntryForm,
)

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
            "held_today": planned is not None
            and planned.send_at is not None
            and timezone.localtime(planned.send_at).date() == timezone.localdate(),
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
                "Not sent: the recipients, the text or the sending time (quiet hours) changed "
                "since the preview. Check the new figures below and confirm again."
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
        if notice.held_for_quiet_hours and notice.send_at:
            messages.info(
                request,
                _("Quiet hours at the practice: it goes out at %(at)s.")
                % {"at": date_format(timezone.localtime(notice.send_at), "SHORT_DATETIME_FORMAT")},
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


# ---------------------------------------------------------------- birthdays and recalls


@practice_required
def outreach_settings(request: HttpRequest, practice: Practice) -> HttpResponse:
    """Birthday greetings on/off with their hour, the recall hour and follow-up (owner)."""
    current = settings_of(practice)
    fields = ("birthday_enabled", "birthday_hour", "recall_hour", "recall_followup_days")
    form = OutreachSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={name: getattr(current, name) for name in fields},
    )
    if request.method == "POST":
        require_owner(request)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if v is not None}
            try:
                save_settings(practice, data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("web:outreach_settings")
    upcoming = list_recalls(practice, timezone.localdate() + timedelta(days=30))[:50]
    context = {
        "form": form,
        "upcoming": [(r, describe(r.last_result) if r.last_result else "") for r in upcoming],
        "can_edit": getattr(request.user, "is_owner", False),
        "moved": moved_hours(practice, current),
    }
    return render(request, "web/outreach/settings.html", context)


@practice_required
def patient_recall(request: HttpRequest, practice: Practice, patient_id: Any) -> HttpResponse:
    patient = get_scoped_or_404(Patient, practice, pk=patient_id, erased_at__isnull=True)
    recall = recall_of(patient)
    initial = {"interval_months": 6}
    if recall is not None:
        initial = {
            "due_date": recall.due_date,
            "interval_months": recall.interval_months,
            "note": recall.note,
        }
    form = RecallForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and "delete" in request.POST:
        delete_recall(patient)
        messages.success(request, _("The recall was removed."))
        return redirect("web:patient_detail", patient_id=patient.pk)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if data.get("interval_months") is None:
            data["interval_months"] = 0
        try:
            save_recall(patient, data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The recall was saved."))
            return redirect("web:patient_detail", patient_id=patient.pk)
    context = {
        "form": form,
        "patient": patient,
        "recall": recall,
        "last_result": describe(recall.last_result) if recall and recall.last_result else "",
    }
    return render(request, "web/outreach/recall.html", context)


# ---------------------------------------------------------------- mass cancellation


@practice_required
def mass_cancel_days(request: HttpRequest, practice: Practice) -> HttpResponse:
    """APT-6 for one or more days: every booked appointment, grouped by day, with the
    channel its patient would be told by; untick to keep, choose another channel or none
    per patient (expert mode).

    A POST cancels, unless it came from a day's "all"/"none" button (``select``) or from
    Enter in a text field (``refresh``): those only show the page again with the boxes
    as asked, which is how the page works without JavaScript.
    """
    source = request.POST if request.method == "POST" else request.GET
    form = MassCancelRangeForm(_range_data(source))
    if not form.is_valid():
        return _mass_cancel_page(request, practice, form, [], _Ticks(None, {}), {})
    days = form.days()
    planned = mass_cancel.plan(practice, days).rows
    form.offer_practitioners([r.appointment.practitioner for r in planned])
    who = form.cleaned_data.get("practitioner") or ""
    rows = [r for r in planned if not who or r.appointment.practitioner == who]
    ticks = _Ticks.read(request, rows)
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and "select" in request.POST:
        ticks.select(request.POST["select"], rows)
    elif request.method == "POST" and "refresh" not in request.POST:
        try:
            done = _cancel(request, practice, days, rows, ticks)
        except ValidationError as exc:
            errors = exc.message_dict
            rows = _still_booked(practice, days, rows)
        else:
            messages.success(request, _cancelled_text(done))
            return redirect("web:mass_cancellation_detail", cancellation_id=done.pk)
    return _mass_cancel_page(request, practice, form, rows, ticks, errors)


def _cancelled_text(done: MassCancellation) -> str:
    """Patients told, as many as notices: a patient with two appointments gets one."""
    told = _patients_told(done)
    return " ".join(
        (
            ngettext(
                "%(n)d appointment was cancelled.",
                "%(n)d appointments were cancelled.",
                done.cancelled,
            )
            % {"n": done.cancelled},
            ngettext("%(n)d patient is being told.", "%(n)d patients are being told.", told)
            % {"n": told},
        )
    )


def _patients_told(done: MassCancellation) -> int:
    return len({row["patient_id"] for row in done.report if row["message_id"]})


def _range_data(source: Any) -> dict[str, str]:
    """The range form's data; ``?day=`` (the day list's link) is a range of one day."""
    if "date_from" in source:
        first = source.get("date_from", "")
    else:
        first = source.get("day") or timezone.localdate().isoformat()
    return {
        "date_from": first,
        "date_to": source.get("date_to", ""),
        "practitioner": source.get("practitioner", ""),
    }


class _Ticks:
    """Which appointments are ticked and each patient's expert-mode channel."""

    def __init__(self, chosen: set[str] | None, overrides: dict[str, str]) -> None:
        self.chosen = chosen  # None: nothing posted yet, everything ticked
        self.overrides = overrides

    @classmethod
    def read(cls, request: HttpRequest, rows: list[mass_cancel.Row]) -> _Ticks:
        if request.method != "POST":
            return cls(None, {})
        shown = {str(r.appointment.pk) for r in rows}
        overrides = {
            key.removeprefix("channel_"): value
            for key, value in request.POST.items()
            if key.startswith("channel_") and value and value != "auto"
        }
        return cls(set(request.POST.getlist("appointment")) & shown, overrides)

    def ticked(self, row: mass_cancel.Row) -> bool:
        return self.chosen is None or str(row.appointment.pk) in self.chosen

    def select(self, value: str, rows: list[mass_cancel.Row]) -> None:
        """``all:2030-03-11`` / ``none:2030-03-11``: tick or untick that day's boxes."""
        what, _sep, day = value.partition(":")
        ids = {str(r.appointment.pk) for r in rows if _local_day(r).isoformat() == day}
        chosen = set(self.chosen or ())
        self.chosen = chosen | ids if what == "all" else chosen - ids

    def overrides_for_chosen(self, rows: list[mass_cancel.Row]) -> dict[str, str]:
        """Expert-mode choices of patients with a ticked appointment: a channel chosen for
        an appointment that was then kept is no reason to refuse the cancellation."""
        patients = {str(r.appointment.patient_id) for r in rows if self.ticked(r)}
        return {p: c for p, c in self.overrides.items() if p in patients}


def _cancel(
    request: HttpRequest,
    practice: Practice,
    days: list[date],
    rows: list[mass_cancel.Row],
    ticks: _Ticks,
) -> MassCancellation:
    if not ticks.chosen:
        raise ValidationError({"appointment_ids": _("Tick at least one appointment.")})
    return mass_cancel.cancel(
        practice,
        days,
        sorted(ticks.chosen),
        ticks.overrides_for_chosen(rows),
        notify=bool(request.POST.get("notify")),
        waiting_list=bool(request.POST.get("waiting_list")),
        wishes=(request.POST.get("wishes") or "").strip(),
        created_by=request.user.email,  # type: ignore[union-attr]
    )


def _still_booked(
    practice: Practice, days: list[date], rows: list[mass_cancel.Row]
) -> list[mass_cancel.Row]:
    """After a refusal, the rows again as they are now (a colleague may have cancelled)."""
    shown = {r.appointment.pk for r in rows}
    return [r for r in mass_cancel.plan(practice, days).rows if r.appointment.pk in shown]


def _local_day(row: mass_cancel.Row) -> date:
    return timezone.localtime(row.appointment.start).date()


def _mass_cancel_page(
    request: HttpRequest,
    practice: Practice,
    form: MassCancelRangeForm,
    rows: list[mass_cancel.Row],
    ticks: _Ticks,
    errors: dict[str, list[str]],
) -> HttpResponse:
    days = form.days() if form.is_valid() else []
    by_day: dict[date, list[dict[str, Any]]] = {day: [] for day in days}
    first_day: dict[str, date] = {}
    for row in rows:
        patient, day = str(row.appointment.patient_id), _local_day(row)
        first = patient not in first_day  # the patient's expert-mode select is in this row
        first_day.setdefault(patient, day)
        by_day.setdefault(day, []).append(
            {
                "row": row,
                "checked": ticks.ticked(row),
                "first": first,
                "first_day": first_day[patient],
                "override": ticks.overrides.get(patient, "auto"),
                "error": " ".join(errors.get(f"overrides.{patient}", [])) if first else "",
                "reason": mass_cancel.REASONS.get(row.reason, ""),
            }
        )
    post = request.POST if request.method == "POST" else {}
    context = {
        "form": form,
        "days": days,
        "groups": [(day, items) for day, items in by_day.items() if items],
        "empty_days": [day for day, items in by_day.items() if not items],
        "count": len(rows),
        "general_errors": [
            m for k, ms in errors.items() if not k.startswith("overrides.") for m in ms
        ],
        "override_errors": [i for items in by_day.values() for i in items if i["error"]],
        "has_errors": bool(errors),
        "channels": [(c, label) for c, label in Channel.choices if practice.channel_enabled(c)],
        "notify": request.method != "POST" or bool(post.get("notify")),
        "waiting_list": bool(post.get("waiting_list")),
        "wishes": post.get("wishes") or "",
        "quiet": (practice.quiet_hours_start, practice.quiet_hours_end),
        "in_quiet": quiet_hours_of(practice).contains(timezone.now()),
    }
    return render(request, "web/outreach/mass_cancel.html", context)


@practice_required
@require_GET
def mass_cancellation_detail(
    request: HttpRequest, practice: Practice, cancellation_id: Any
) -> HttpResponse:
    """The report: per day who was told how, and first of all whom to call."""
    done = get_scoped_or_404(MassCancellation, practice, pk=cancellation_id)
    by_day: dict[date, list[dict[str, Any]]] = {}
    for entry in done.report:
        start = timezone.localtime(datetime.fromisoformat(entry["start"]))
        row = {
            **entry,
            "start": start,
            "reason_text": str(mass_cancel.REASONS.get(entry["reason"], entry["reason"])),
            "held": datetime.fromisoformat(entry["held_until"])
            if entry.get("held_until")
            else None,
        }
        by_day.setdefault(start.date(), []).append(row)
    rows = [row for items in by_day.values() for row in items]
    context = {
        "done": done,
        "groups": list(by_day.items()),
        "told": _patients_told(done),
        "to_call": [r for r in rows if not r["message_id"] and r["reason"] != "notify_off"],
    }
    return render(request, "web/outreach/mass_cancellation.html", context)


# ---------------------------------------------------------------- waiting list


@practice_required
def waiting_list(request: HttpRequest, practice: Practice) -> HttpResponse:
    """The open entries, oldest first; add a patient; offer a free slot with a link to
    the first ones; the recent offers with their state (open, taken by whom, ...)."""
    adding = "add" in request.POST or "patient_id_search" in request.POST
    add_form = WaitingEntryForm(
        request.POST if adding else None,
        practice=practice,
        initial={"patient_id": request.GET.get("patient", "")},
    )
    offer_form = OfferForm(
        request.POST if "offer" in request.POST else None,
        initial=_offer_initial(practice, request.GET.get("appointment", "")),
    )
    if patient_picker.searching(add_form):
        patient_picker.keep_entered(add_form)
    elif "add" in request.POST and add_form.is_valid():
        try:
            waiting.add(
                practice, add_form.cleaned_data["patient_id"].pk, add_form.cleaned_data["wishes"]
            )
        except ValidationError as exc:
            add_form.add_service_errors(exc)
        else:
            messages.success(request, _("The patient is on the waiting list."))
            return redirect("web:waiting_list")
    if "offer" in request.POST and offer_form.is_valid():
        if _offer(request, practice, offer_form):
            return redirect("web:waiting_list")
    entries = offers.open_entries(practice).select_related("patient")
    context = {
        "entries": entries,
        "add_form": add_form,
        "offer_form": offer_form,
        "offers": [(o, offers.state_of(o)) for o in offers.recent(practice)],
        "quiet": (practice.quiet_hours_start, practice.quiet_hours_end),
    }
    return render(request, "web/outreach/waiting_list.html", context)


def _offer_initial(practice: Practice, appointment_id: str) -> dict[str, Any]:
    """The slot of a cancelled appointment (link "offer this slot" on its page)."""
    initial: dict[str, Any] = {"count": 3, "duration": 30}
    source = None
    if appointment_id:
        source = (
            scoped(Appointment, practice).filter(pk=appointment_id, status=Status.CANCELLED).first()
            if _is_uuid(appointment_id)
            else None
        )
    if source is not None:
        initial.update(
            appointment_id=str(source.pk),
            start=source.start.astimezone(ZoneInfo(practice.timezone)).replace(tzinfo=None),
            duration=int((source.end - source.start).total_seconds() // 60),
            practitioner=source.practitioner,
            location=source.location,
        )
    return initial


def _offer(request: HttpRequest, practice: Practice, form: OfferForm) -> bool:
    slot = form.slot()
    if slot["start"] is None and not slot["appointment_id"]:
        form.add_error("start", _("This field is required."))
        return False
    try:
        created = offers.create(
            practice,
            slot,
            count=form.cleaned_data.get("count") or 3,
            created_by=request.user.email,  # type: ignore[union-attr]
        )
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    if created.offer is None:
        names = ", ".join(e.patient.full_name for e in created.not_reached)
        form.add_error(
            "count",
            _("Nobody of them can be reached by message; please call: %(names)s.")
            % {"names": names},
        )
        return False
    names = ", ".join(e.patient.full_name for e in created.offered) or "-"
    messages.success(request, _("Offered to: %(names)s.") % {"names": names})
    if created.send_at and created.send_at > timezone.now() + timedelta(minutes=1):
        local = created.send_at.astimezone(ZoneInfo(practice.timezone))
        messages.info(
            request,
            _("It is quiet time at the practice: the offer goes out at %(time)s.")
            % {"time": f"{local:%H:%M}"},
        )
    if created.not_reached:
        missed = ", ".join(e.patient.full_name for e in created.not_reached)
        messages.warning(
            request,
            _("Not reachable (no channel with consent), please call: %(names)s.")
            % {"names": missed},
        )
    return True


@practice_required
def slot_offer_withdraw(request: HttpRequest, practice: Practice, offer_id: Any) -> HttpResponse:
    offer = get_scoped_or_404(SlotOffer, practice, pk=offer_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if offers.withdraw(offer):
        messages.success(request, _("The offer was withdrawn; its links no longer work."))
    else:
        messages.warning(request, _("The offer was no longer open."))
    return redirect("web:waiting_list")


@practice_required
def waiting_entry_remove(request: HttpRequest, practice: Practice, entry_id: int) -> HttpResponse:
    entry = get_scoped_or_404(WaitingListEntry, practice, pk=entry_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    entry.delete()
    messages.success(request, _("The entry was removed from the waiting list."))
    return redirect("web:waiting_list")
