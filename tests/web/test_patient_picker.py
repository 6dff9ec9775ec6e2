"""The patient picker (issue 6): one search field for every page that picks a patient,
instead of a select that stopped at 2,000 patients. Without JavaScript ("Suchen" shows
the matches as radio buttons, everything entered is kept) and its JSON type-ahead."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client
from tests.many_patients import add_patients

from praxisbote.appointments.models import Appointment
from praxisbote.outreach.models import WaitingListEntry
from praxisbote.patients.models import Patient
from praxisbote.patients.services import (
    as_birth_date,
    create_patient,
    erase_patient,
    find_patients,
    search_patients,
)
from praxisbote.texts.models import Template

from .helpers import field_error, text


@pytest.fixture
def crowd(practice):
    """2,100 patients plus two namesakes whose last name sorts after all of them."""
    add_patients(practice, 2100)
    first = create_patient(
        practice,
        {"first_name": "Maria", "last_name": "Zwölfer", "birth_date": "1961-04-02"},
    )
    second = create_patient(
        practice,
        {
            "first_name": "Maria",
            "last_name": "Zwölfer",
            "birth_date": "1988-11-23",
            "mobile": "0676 9876543",
            "email": "maria.z@example.at",
        },
    )
    return first, second


def radios(content: bytes, name: str) -> list[str]:
    return re.findall(rf'<input type="radio" name="{name}" value="([0-9a-f-]+)"', content.decode())


# ---------------------------------------------------------------- the search


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("31.12.1980", date(1980, 12, 31)),
        ("1.3.1980", date(1980, 3, 1)),
        ("1980-12-31", date(1980, 12, 31)),
        ("02.04.61", date(1961, 4, 2)),
        ("31/12/1980", date(1980, 12, 31)),
        ("Huber", None),
        ("31.02.1980", None),
    ],
)
def test_birth_dates_as_staff_type_them(word, expected):
    assert as_birth_date(word) == expected


def test_a_two_digit_year_is_never_in_the_future():
    assert as_birth_date("01.01.99") == date(1999, 1, 1)
    assert as_birth_date("01.01.00").year == 2000


def test_find_by_name_birth_date_mobile_and_email_fragment(practice, crowd):
    first, second = crowd
    assert [p.pk for p in find_patients(practice, "zwö")[0]] == [first.pk, second.pk]
    assert [p.pk for p in find_patients(practice, "Maria 23.11.1988")[0]] == [second.pk]
    assert [p.pk for p in find_patients(practice, "1961-04-02")[0]] == [first.pk]
    assert [p.pk for p in find_patients(practice, "06769876")[0]] == [second.pk]
    assert [p.pk for p in find_patients(practice, "maria.z@")[0]] == [second.pk]
    assert find_patients(practice, "") == ([], False)
    # the patients list's own search finds by birth date too
    assert [p.pk for p in search_patients(practice, "02.04.1961")] == [first.pk]


def test_last_names_that_start_with_the_words_come_first_and_more_is_said(practice, crowd):
    create_patient(practice, {"first_name": "Zwölf", "last_name": "Adam"})
    create_patient(practice, {"first_name": "Eva", "last_name": "Azwölfer"})
    found, more = find_patients(practice, "zwö")
    assert [p.last_name for p in found] == ["Zwölfer", "Zwölfer", "Adam", "Azwölfer"]
    assert not more
    found, more = find_patients(practice, "huber")
    assert len(found) == 10 and more


def test_erased_and_other_practices_patients_are_never_found(practice, other_practice, crowd):
    first, second = crowd
    erase_patient(second)
    create_patient(other_practice, {"first_name": "Maria", "last_name": "Zwölfer"})
    assert [p.pk for p in find_patients(practice, "zwö")[0]] == [first.pk]


# ---------------------------------------------------------------- the JSON type-ahead


def test_type_ahead_answers_staff_with_name_and_birth_date(owner_client, practice, crowd):
    first, second = crowd
    response = owner_client.get("/patients/search/", {"q": "zwö"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["more"] is False
    assert body["results"] == [
        {"id": str(first.pk), "name": "Zwölfer, Maria", "born": "02.04.1961", "hint": ""},
        {
            "id": str(second.pk),
            "name": "Zwölfer, Maria",
            "born": "23.11.1988",
            "hint": "+436769876543",
        },
    ]
    assert owner_client.get("/patients/search/", {"q": "Gruber"}).json()["more"] is True
    assert owner_client.get("/patients/search/").json() == {
        "query": "",
        "results": [],
        "more": False,
    }


def test_type_ahead_is_for_logged_in_staff_only(practice, crowd):
    response = Client().get("/patients/search/", {"q": "zwö"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_type_ahead_never_shows_another_practice_or_erased_patients(
    owner_client, practice, other_practice, crowd
):
    erase_patient(crowd[1])
    stranger = create_patient(other_practice, {"first_name": "Maria", "last_name": "Zwölfer"})
    ids = [r["id"] for r in owner_client.get("/patients/search/", {"q": "zwö"}).json()["results"]]
    assert ids == [str(crowd[0].pk)] and str(stranger.pk) not in ids


# ---------------------------------------------------------------- new appointment


APPOINTMENT = {
    "date": "2030-03-11",
    "time": "10:00",
    "duration": "45",
    "practitioner": "Dr. Maier",
    "location": "Raum 3",
    "create_reminders": "on",
}


def test_the_page_lists_no_patients_and_patient_2101_can_be_booked(owner_client, crowd):
    first, second = crowd
    page = owner_client.get("/appointments/new/").content.decode()
    assert "<option" not in page.split('name="patient_q"')[0].split('<form method="post"')[-1]
    assert 'role="combobox"' in page and "Suchen" in page
    found = owner_client.post(
        "/appointments/new/", {"patient_q": "zwö", "patient_search": "1", **APPOINTMENT}
    )
    assert found.status_code == 200
    assert radios(found.content, "patient") == [str(first.pk), str(second.pk)]
    shown = text(found.content)
    assert "Zwölfer, Maria · geb. 02.04.1961" in shown
    assert "Zwölfer, Maria · geb. 23.11.1988" in shown
    assert not Appointment.objects.exists()
    # what was entered is kept and no field complains
    html = found.content.decode()
    assert 'value="Raum 3"' in html and 'value="45"' in html and 'value="2030-03-11"' in html
    assert re.search(r'<input type="checkbox" name="create_reminders"[^>]* checked>', html)
    assert not re.search(r'<input type="checkbox" name="send_confirmation"[^>]* checked>', html)
    assert 'class="errorlist"' not in html
    booked = owner_client.post(
        "/appointments/new/", {"patient_q": "zwö", "patient": str(second.pk), **APPOINTMENT}
    )
    assert booked.status_code == 302, text(booked.content)
    appointment = Appointment.objects.get()
    assert appointment.patient_id == second.pk and appointment.location == "Raum 3"


def test_sending_a_search_text_without_choosing_shows_the_matches(owner_client, crowd):
    response = owner_client.post("/appointments/new/", {"patient_q": "zwö", **APPOINTMENT})
    assert response.status_code == 200
    assert "Wählen Sie den Patienten aus den Treffern" in field_error(response.content, "patient")
    assert len(radios(response.content, "patient")) == 2
    assert not Appointment.objects.exists()


def test_no_match_and_nothing_entered_are_said_next_to_the_field(owner_client, crowd):
    none = owner_client.post(
        "/appointments/new/", {"patient_q": "xyq", "patient_search": "1", **APPOINTMENT}
    )
    assert "Kein Patient passt." in text(none.content)
    empty = owner_client.post("/appointments/new/", APPOINTMENT)
    assert "Suchen Sie den Patienten" in field_error(empty.content, "patient")


def test_another_practices_or_an_erased_patient_is_a_field_error(
    owner_client, practice, other_practice, crowd
):
    stranger = create_patient(other_practice, {"first_name": "Fritz", "last_name": "Fremd"})
    response = owner_client.post("/appointments/new/", {"patient": str(stranger.pk), **APPOINTMENT})
    assert response.status_code == 200
    assert "kann nicht gewählt werden" in field_error(response.content, "patient")
    assert "Fremd" not in text(response.content)
    erase_patient(crowd[0])
    erased = owner_client.post("/appointments/new/", {"patient": str(crowd[0].pk), **APPOINTMENT})
    assert "kann nicht gewählt werden" in field_error(erased.content, "patient")
    garbage = owner_client.post("/appointments/new/", {"patient": "not-a-uuid", **APPOINTMENT})
    assert garbage.status_code == 200
    assert not Appointment.objects.exists()


def test_a_link_with_the_patient_chooses_them(owner_client, patient):
    page = owner_client.get(f"/appointments/new/?patient={patient.pk}").content.decode()
    assert "Gewählt: Huber, Anna" in text(page)
    assert f'name="patient" value="{patient.pk}"' in page


def test_a_search_keeps_the_chosen_patient_choosable(owner_client, patient, crowd):
    response = owner_client.post(
        "/appointments/new/",
        {"patient": str(patient.pk), "patient_q": "zwö", "patient_search": "1", **APPOINTMENT},
    )
    found = radios(response.content, "patient")
    assert found[0] == str(patient.pk) and len(found) == 3
    assert re.search(rf'value="{patient.pk}" id="[^"]+" checked', response.content.decode())


# ---------------------------------------------------------------- waiting list


def test_waiting_list_adds_a_patient_found_by_the_picker(owner_client, crowd):
    first, _second = crowd
    found = owner_client.post(
        "/waiting-list/",
        {"patient_id_q": "02.04.1961", "patient_id_search": "1", "wishes": "vormittags"},
    )
    assert radios(found.content, "patient_id") == [str(first.pk)]
    assert 'value="vormittags"' in found.content.decode()
    assert not WaitingListEntry.objects.exists()
    added = owner_client.post(
        "/waiting-list/", {"patient_id": str(first.pk), "wishes": "vormittags", "add": "1"}
    )
    assert added.status_code == 302
    assert WaitingListEntry.objects.get().patient_id == first.pk


def test_waiting_list_refuses_another_practices_patient_next_to_the_field(
    owner_client, other_practice, crowd
):
    stranger = create_patient(other_practice, {"last_name": "Fremd"})
    response = owner_client.post("/waiting-list/", {"patient_id": str(stranger.pk), "add": "1"})
    assert response.status_code == 200
    assert "kann nicht gewählt werden" in field_error(response.content, "patient_id")
    assert not WaitingListEntry.objects.exists()


# ---------------------------------------------------------------- template editor


def test_template_preview_for_a_patient_found_without_script(owner_client, crowd):
    first, _second = crowd
    url = "/templates/reminder/sms/de/"
    text_source = "Hallo {{ patient.full_name }}, bis {{ appointment.time }}"
    found = owner_client.post(
        url, {"text": text_source, "preview_patient_q": "zwö", "preview_patient_search": "1"}
    )
    assert found.status_code == 200
    assert len(radios(found.content, "preview_patient")) == 2
    assert "Hallo {{ patient.full_name }}, bis {{ appointment.time }}" in found.content.decode()
    assert not Template.objects.exists()  # a search saves nothing
    chosen = owner_client.post(
        url,
        {
            "text": text_source,
            "preview_patient": str(first.pk),
            "preview_patient_q": "zwö",
            "preview_patient_search": "1",
        },
    )
    assert "Hallo Maria Zwölfer, bis" in text(chosen.content)
    assert not Template.objects.exists()


# ---------------------------------------------------------------- other pages


def test_compose_search_says_when_more_patients_match(owner_client, crowd):
    page = text(owner_client.get("/messages/new/", {"find": "Gruber"}).content)
    assert "Weitere Patienten passen" in page
    one = text(owner_client.get("/messages/new/", {"find": "23.11.1988"}).content)
    assert "Zwölfer, Maria" in one and "Weitere Patienten passen" not in one


def test_no_staff_page_lists_patients_in_a_select(owner_client, crowd):
    for url in ("/appointments/new/", "/waiting-list/", "/templates/reminder/sms/de/"):
        page = owner_client.get(url).content.decode()
        options = re.findall(r'<option value="([0-9a-f-]{36})"', page)
        assert not options, (url, len(options))
        assert Patient.objects.count() > 2000
