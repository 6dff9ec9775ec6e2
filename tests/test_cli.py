"""The `praxisbote` command as operators script it: real subprocesses, real database."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def run(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRAXISBOTE_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "praxisbote.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_init_is_idempotent_and_key_file_is_private(tmp_path):
    run(tmp_path, "init")
    run(tmp_path, "init")
    key = tmp_path / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (tmp_path / "praxisbote.sqlite3").exists()


def test_practice_create_prints_json_last_line_with_a_working_key(tmp_path):
    run(tmp_path, "init")
    out = run(tmp_path, "practice", "create", "--name", "Praxis A", "--country", "CH").stdout
    data = json.loads(out.strip().splitlines()[-1])
    assert data["timezone"] == "Europe/Zurich"
    assert data["api_key"].startswith("pb_")
    user = run(
        tmp_path,
        "user",
        "create",
        "--practice",
        data["practice_id"],
        "--email",
        "a@praxis.ch",
        "--role",
        "owner",
        "--generate-password",
    ).stdout
    assert json.loads(user)["password"]


def test_bad_country_and_unknown_practice_fail_clearly(tmp_path):
    run(tmp_path, "init")
    bad = run(tmp_path, "practice", "create", "--name", "X", "--country", "FR", check=False)
    assert bad.returncode == 2
    assert "invalid choice" in bad.stderr
    missing = run(
        tmp_path,
        "user",
        "create",
        "--practice",
        "nope",
        "--email",
        "a@b.c",
        "--role",
        "staff",
        "--generate-password",
        check=False,
    )
    assert missing.returncode == 2
    assert "no practice" in missing.stderr


def test_demo_prints_password_once(tmp_path):
    run(tmp_path, "init")
    first = run(tmp_path, "demo").stdout
    second = run(tmp_path, "demo").stdout
    assert "password:" in first
    assert "password:" not in second


@pytest.mark.parametrize(
    "command", [[], ["init"], ["practice", "create"], ["user", "create"], ["serve"], ["worker"]]
)
def test_help_is_complete(tmp_path, command):
    out = run(tmp_path, *command, "--help").stdout
    assert "usage: praxisbote" in out


def test_credits_add_and_prices(tmp_path):
    run(tmp_path, "init")
    practice = json.loads(
        run(tmp_path, "practice", "create", "--name", "P", "--country", "AT").stdout.splitlines()[
            -1
        ]
    )["practice_id"]
    added = json.loads(
        run(tmp_path, "credits", "add", "--practice", practice, "--amount", "20").stdout
    )
    assert added["balance"] == "20.0000"
    prices = json.loads(
        run(
            tmp_path,
            "credits",
            "prices",
            "--practice",
            practice,
            "--sms",
            "0.09",
            "--free-sms",
            "0",
        ).stdout
    )
    assert (prices["sms"], prices["free_sms_per_month"], prices["threema"]) == (
        "0.0900",
        0,
        "0.0150",
    )
    bad = run(tmp_path, "credits", "prices", "--practice", practice, "--sms", "x", check=False)
    assert bad.returncode == 2
    assert "not a price" in bad.stderr
