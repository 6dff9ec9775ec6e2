"""Logging in and out, attempt limits, password change."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import translation

from praxisbote.practices.models import LoginFailure, User

from .conftest import STAFF_PASSWORD
from .helpers import de, field_error, text


def login(client: Client, email: str, password: str, next_url: str = ""):
    url = "/login/" + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"email": email, "password": password})


def test_right_password_leads_to_the_overview(owner, practice):
    client = Client()
    response = login(client, "Owner@Praxis.test", STAFF_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/")
    assert practice.name in page.content.decode()


def test_wrong_password_is_told_next_to_the_password_field(owner):
    client = Client()
    response = login(client, owner.email, "falsch-falsch-falsch")
    assert response.status_code == 200
    assert field_error(response.content, "password") == de("E-mail address or password is wrong.")
    assert SESSION_KEY not in client.session
    assert LoginFailure.objects.filter(key=f"email:{owner.email}").count() == 1


def test_too_many_failures_lock_the_address_even_for_the_right_password(owner, settings):
    settings.LOGIN_MAX_ATTEMPTS = 3
    client = Client()
    for _ in range(3):
        login(client, owner.email, "falsch-falsch-falsch")
    response = login(client, owner.email, STAFF_PASSWORD)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    with translation.override("de"):
        message = translation.ngettext(
            "Too many failed attempts. Please wait %(n)d minute and try again.",
            "Too many failed attempts. Please wait %(n)d minutes and try again.",
            15,
        ) % {"n": 15}
    assert message in text(response.content)


def test_a_successful_login_clears_earlier_failures(owner):
    client = Client()
    login(client, owner.email, "falsch-falsch-falsch")
    login(client, owner.email, STAFF_PASSWORD)
    assert not LoginFailure.objects.filter(key=f"email:{owner.email}").exists()


def test_next_leads_back_to_the_page_but_never_off_site(owner):
    response = login(Client(), owner.email, STAFF_PASSWORD, next_url="/patients/")
    assert response["Location"] == "/patients/"
    response = login(Client(), owner.email, STAFF_PASSWORD, next_url="https://evil.example/")
    assert response["Location"] == "/"


def test_logout_needs_post_and_ends_the_session(owner_client):
    assert owner_client.get("/logout/").status_code == 405
    response = owner_client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert owner_client.get("/").status_code == 302


def test_pages_send_anonymous_visitors_to_the_login(db):
    response = Client().get("/patients/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/patients/")


def test_password_change_keeps_the_session_and_the_new_password_works(owner, owner_client):
    new = "Ein-ganz-neues-Passwort-7"
    response = owner_client.post(
        "/account/password/",
        {"old_password": STAFF_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert owner_client.get("/").status_code == 200, "still logged in"
    assert User.objects.get(pk=owner.pk).check_password(new)
    assert login(Client(), owner.email, new).status_code == 302


def test_password_change_refuses_a_wrong_old_password_next_to_its_field(owner, owner_client):
    response = owner_client.post(
        "/account/password/",
        {"old_password": "nicht-das-alte", "new_password1": "x" * 12, "new_password2": "x" * 12},
    )
    assert response.status_code == 200
    assert field_error(response.content, "old_password")
    assert User.objects.get(pk=owner.pk).check_password(STAFF_PASSWORD)


@pytest.mark.parametrize("weak", ["kurz", "1234567890123"])
def test_password_change_applies_the_password_rules(owner, owner_client, weak):
    response = owner_client.post(
        "/account/password/",
        {"old_password": STAFF_PASSWORD, "new_password1": weak, "new_password2": weak},
    )
    assert response.status_code == 200
    assert field_error(response.content, "new_password2")
    assert User.objects.get(pk=owner.pk).check_password(STAFF_PASSWORD)


def test_an_account_without_practice_is_logged_out_not_shown_an_error(db):
    admin = User.objects.create_user("admin@host.test", STAFF_PASSWORD)
    client = Client()
    client.force_login(admin)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert SESSION_KEY not in client.session
