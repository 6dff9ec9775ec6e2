"""The webhook tuning comes from PRAXISBOTE_WEBHOOK_* like the other settings (a real,
fresh process reads the environment), and the defaults match the documented ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

from praxisbote.messaging import webhooks

TUNABLE = (
    "TIMEOUT_SECONDS",
    "BATCH_SIZE",
    "LEASE_SECONDS",
    "RETRY_BASE_SECONDS",
    "RETRY_CAP_SECONDS",
    "MAX_ATTEMPTS",
)
# What the worker reads, through the same function it uses.
READ = (
    "import django, json; django.setup(); from praxisbote.messaging import webhooks; "
    f"print(json.dumps({{n: webhooks.setting(n) for n in {TUNABLE!r}}}))"
)


def read_in_a_fresh_process(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PRAXISBOTE_WEBHOOK_")},
        "DJANGO_SETTINGS_MODULE": "praxisbote.settings",
        "PRAXISBOTE_DATA_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", READ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_without_variables_the_documented_defaults_apply(tmp_path):
    result = read_in_a_fresh_process(tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {name: webhooks.DEFAULTS[name] for name in TUNABLE}
    assert values["MAX_ATTEMPTS"] == 35 and values["TIMEOUT_SECONDS"] == 10


def test_each_variable_changes_what_the_worker_uses(tmp_path):
    env = {f"PRAXISBOTE_WEBHOOK_{name}": str(i + 2) for i, name in enumerate(TUNABLE)}
    result = read_in_a_fresh_process(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {name: i + 2 for i, name in enumerate(TUNABLE)}


def test_a_value_that_is_no_whole_number_stops_the_start_and_names_the_variable(tmp_path):
    result = read_in_a_fresh_process(tmp_path, PRAXISBOTE_WEBHOOK_TIMEOUT_SECONDS="10s")
    assert result.returncode != 0
    assert "PRAXISBOTE_WEBHOOK_TIMEOUT_SECONDS must be a whole number, not '10s'" in result.stderr


def test_this_process_uses_the_defaults_too():
    for name in TUNABLE:
        assert getattr(settings, f"WEBHOOK_{name}") == webhooks.DEFAULTS[name], name
