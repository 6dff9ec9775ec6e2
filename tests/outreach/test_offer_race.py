"""Two patients press "take" on the same offer at once: exactly one appointment.

On PostgreSQL two real requests run in two threads (own connections); the winner holds the
offer's row lock while it books (slowed down on purpose), so the loser's conditional
UPDATE must wait for it and then finds the offer taken. SQLite serialises all writers, so
there the two presses run one after the other through the same code path.
"""

from __future__ import annotations

import re
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client
from tests.outreach.conftest import make_patient, no_quiet_hours
from tests.outreach.test_offers import codes, soon

from praxisbote.appointments.models import Appointment
from praxisbote.outreach import offers, waiting
from praxisbote.outreach.models import SlotOffer, WaitingListEntry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("keep_language")]


@pytest.fixture
def offered(practice):
    no_quiet_hours(practice)
    for name in ("Erste", "Zweite"):
        patient = make_patient(practice, name, email=f"{name}@example.org", consented=("email",))
        waiting.add(practice, patient.pk)
    created = offers.create(practice, {"start": soon()})
    return created, codes(created)


def open_page(code: str) -> Client:
    """One patient's phone with the offer open (the button and its CSRF cookie)."""
    client = Client(enforce_csrf_checks=True)
    assert "Termin übernehmen" in client.get(f"/o/{code}").content.decode()
    return client


def press(client: Client, code: str) -> str:
    """Press the button; where it leads."""
    token = client.cookies["csrftoken"].value
    response = client.post(f"/o/{code}/take", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.content
    return response["Location"]


def check_one_winner(locations: dict[str, str], links: dict[str, str]) -> str:
    slips = {name for name, where in locations.items() if where.startswith("/t/")}
    assert len(slips) == 1, locations
    winner = slips.pop()
    loser = next(name for name in locations if name != winner)
    assert re.fullmatch(r"/t/[A-Za-z0-9]{7}", locations[winner])
    assert locations[loser] == f"/o/{links[loser]}"
    assert Appointment.objects.count() == 1
    appointment = Appointment.objects.get()
    assert appointment.patient.last_name == winner
    offer = SlotOffer.objects.get()
    assert offer.state == "taken" and offer.appointment_id == appointment.pk
    closed = WaitingListEntry.objects.filter(closed_at__isnull=False)
    assert [e.patient.last_name for e in closed] == [winner]
    page = Client().get(locations[loser]).content.decode()
    assert "schon vergeben" in page
    return winner


def test_two_presses_at_once_book_exactly_once(offered, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("two concurrent requests: PostgreSQL (SQLite: see the sequential test)")
    _created, links = offered
    original = offers._book
    booking: list[float] = []

    def slow_book(offer, invite):
        booking.append(time.monotonic())
        time.sleep(0.5)  # hold the offer's row lock while the other request arrives
        return original(offer, invite)

    monkeypatch.setattr(offers, "_book", slow_book)
    barrier = threading.Barrier(2)
    locations: dict[str, str] = {}
    errors: list[BaseException] = []

    phones = {name: open_page(code) for name, code in links.items()}

    def patient(name: str) -> None:
        try:
            barrier.wait(5)
            locations[name] = press(phones[name], links[name])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=patient, args=(n,)) for n in ("Erste", "Zweite")]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not errors, errors
    assert len(booking) == 1, "only the winner gets as far as booking"
    assert time.monotonic() - started >= 0.5, "the loser waited for the winner's commit"
    check_one_winner(locations, links)


def test_two_presses_one_after_the_other_book_exactly_once(offered):
    _created, links = offered
    phones = {name: open_page(code) for name, code in links.items()}
    locations = {name: press(phones[name], links[name]) for name in ("Zweite", "Erste")}
    assert check_one_winner(locations, links) == "Zweite"
