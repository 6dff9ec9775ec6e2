"""The `praxisbote` command: what operators and integrators script against.

Subcommands keep the names from the foundation issue; each has a complete ``--help``.
Django is set up lazily so ``--help`` works before any database exists.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence

DEMO_PRACTICE = "Demo-Praxis"
DEMO_EMAIL = "demo@praxisbote.invalid"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "praxisbote.settings")
    import django

    django.setup()


def _name_db_sessions(name: str) -> None:
    """Set PostgreSQL's application_name for this process's connections (pg_stat_activity
    then shows which worker a session belongs to); before the first connection opens."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        database.setdefault("OPTIONS", {})["application_name"] = name[:63]


def _fail(message: str) -> int:
    print(f"praxisbote: {message}", file=sys.stderr)
    return 2


def _validation_message(exc) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def cmd_init(args: argparse.Namespace) -> int:
    """Create data dir, key files (0600) and the database schema. Safe to repeat."""
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    print(f"data dir: {settings.DATA_DIR}")
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} ready")
    return 0


def cmd_practice_create(args: argparse.Namespace) -> int:
    _setup()
    from django.core.exceptions import ValidationError

    from praxisbote.practices.services import create_api_key, create_practice

    try:
        practice = create_practice(
            name=args.name,
            country=args.country,
            timezone_name=args.timezone,
            language=args.language,
        )
    except ValidationError as exc:
        return _fail(_validation_message(exc))
    issued = create_api_key(practice, "cli")
    print(
        json.dumps(
            {
                "practice_id": str(practice.id),
                "name": practice.name,
                "country": practice.country,
                "timezone": practice.timezone,
                "api_key": issued.secret,
            }
        )
    )
    return 0


class CliError(Exception):
    """A mistake in the command's input: printed as one line, exit code 2."""


def _require_practice(practice_id: str):
    practice = _find_practice(practice_id)
    if practice is None:
        raise CliError(f"no practice with id {practice_id}")
    return practice


def _find_practice(practice_id: str):
    from django.core.exceptions import ValidationError

    from praxisbote.practices.models import Practice

    try:
        return Practice.objects.get(pk=practice_id)
    except (Practice.DoesNotExist, ValidationError, ValueError):
        return None


def cmd_practice_list(args: argparse.Namespace) -> int:
    _setup()
    from praxisbote.practices.models import Practice

    for practice in Practice.objects.all():
        print(json.dumps({"practice_id": str(practice.id), "name": practice.name}))
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    _setup()
    from django.core.exceptions import ValidationError

    from praxisbote.practices.services import create_user

    practice = _require_practice(args.practice)
    password = None
    if not args.generate_password and sys.stdin.isatty():
        password = getpass.getpass("Password (empty: generate one): ") or None
    try:
        user, password = create_user(
            practice=practice, email=args.email, role=args.role, password=password
        )
    except ValidationError as exc:
        return _fail(_validation_message(exc))
    print(json.dumps({"user": user.email, "role": user.role, "password": password}))
    return 0


def cmd_apikey_create(args: argparse.Namespace) -> int:
    _setup()
    from praxisbote.practices.services import create_api_key

    practice = _require_practice(args.practice)
    issued = create_api_key(practice, args.name)
    print(json.dumps({"practice_id": str(practice.id), "api_key": issued.secret}))
    return 0


def cmd_apikey_revoke(args: argparse.Namespace) -> int:
    _setup()
    from praxisbote.practices.models import ApiKey
    from praxisbote.practices.services import revoke_api_key

    key = ApiKey.objects.filter(prefix=args.prefix).first()
    if key is None:
        return _fail(f"no API key with prefix {args.prefix}")
    revoke_api_key(key)
    print(f"revoked {key.prefix}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Create the demo practice and its login once; later runs only say it exists."""
    _setup()
    from praxisbote.practices.models import Practice, User
    from praxisbote.practices.services import create_practice, create_user

    if User.objects.filter(email=DEMO_EMAIL).exists():
        print(f"Demo practice ready. Login: {DEMO_EMAIL} (password was shown at first start)")
        return 0
    practice = Practice.objects.filter(name=DEMO_PRACTICE).first() or create_practice(
        name=DEMO_PRACTICE, country="AT", phone="+43 1 2345678"
    )
    _, password = create_user(practice=practice, email=DEMO_EMAIL, role="owner")
    from decimal import Decimal

    from praxisbote.billing.services import add_credit

    add_credit(practice, Decimal("10"), "demo credit")
    bar = "=" * 64
    print(f"{bar}\nDemo practice created. Log in at http://127.0.0.1:8000/")
    print(f"  e-mail:   {DEMO_EMAIL}\n  password: {password}\n(shown only this once)\n{bar}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()
    import signal

    import uvicorn

    from praxisbote.messaging.worker import start_embedded

    def _terminate(*_: object) -> None:
        # uvicorn shuts down on SIGTERM, restores this handler and raises the signal again:
        # turning it into SystemExit lets the finally below stop the worker cleanly.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _terminate)
    _name_db_sessions("praxisbote serve")
    worker = None
    if not args.no_worker:
        worker, thread = start_embedded(concurrency=args.concurrency)
        print(f"praxisbote: embedded worker {worker.worker_id} running")
    try:
        uvicorn.run(
            "praxisbote.asgi:application",
            host=args.host,
            port=args.port,
            log_level=os.environ.get("PRAXISBOTE_LOG_LEVEL", "info").lower(),
            proxy_headers=True,
        )
    finally:
        if worker is not None:
            worker.stop()
            thread.join(timeout=60)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """A standalone worker; SIGTERM/SIGINT finish the batch in flight, then stop."""
    _setup()
    import signal

    from praxisbote.messaging.worker import Worker

    worker = Worker(
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        exit_when_idle=args.exit_when_idle,
        run_jobs=not args.no_jobs,
        listen=True,
    )
    _name_db_sessions(f"praxisbote worker {worker.worker_id}")
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    print(f"praxisbote: worker {worker.worker_id} running", flush=True)
    worker.run()
    return 0


def cmd_credits_add(args: argparse.Namespace) -> int:
    _setup()
    from decimal import Decimal, InvalidOperation

    from praxisbote.billing.services import add_credit

    practice = _require_practice(args.practice)
    try:
        amount = Decimal(args.amount)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        return _fail(f"{args.amount!r} is not an amount (e.g. 25.00)")
    account = add_credit(practice, amount, args.note)
    print(json.dumps({"practice_id": str(practice.id), "balance": str(account.balance)}))
    return 0


def cmd_credits_prices(args: argparse.Namespace) -> int:
    """Show or change a practice's price list and free monthly units (BIL-1)."""
    _setup()
    from decimal import Decimal, InvalidOperation

    from praxisbote.billing.services import account_for

    practice = _require_practice(args.practice)
    account = account_for(practice)
    changes = {
        "price_sms": args.sms,
        "price_threema": args.threema,
        "price_email": args.email,
    }
    for field, value in changes.items():
        if value is None:
            continue
        try:
            price = Decimal(value)
        except InvalidOperation:
            price = Decimal("NaN")
        if not price.is_finite():
            return _fail(f"{value!r} is not a price (e.g. 0.09)")
        if price < 0:
            return _fail("prices cannot be negative")
        setattr(account, field, price)
    for field, value in (
        ("free_sms_per_month", args.free_sms),
        ("free_threema_per_month", args.free_threema),
    ):
        if value is not None and value < 0:
            return _fail("free units cannot be negative")
        if value is not None:
            setattr(account, field, value)
    account.save()
    account.refresh_from_db()  # stored precision, e.g. 0.0900
    print(
        json.dumps(
            {
                "practice_id": str(practice.id),
                "currency": account.currency,
                "sms": str(account.price_sms),
                "threema": str(account.price_threema),
                "email": str(account.price_email),
                "free_sms_per_month": account.free_sms_per_month,
                "free_threema_per_month": account.free_threema_per_month,
            }
        )
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="praxisbote",
        description=(
            "Messaging for healthcare and therapy practices. Settings come from environment "
            "variables (DATABASE_URL, PRAXISBOTE_DATA_DIR, …; see docs/configuration.md)."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable, help_text: str, parent=sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    add("init", cmd_init, "Create data dir, secret key files (0600) and the database schema.")

    practice = sub.add_parser("practice", help="Manage practices (tenants).")
    psub = practice.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = add("create", cmd_practice_create, "Create a practice; prints JSON with its API key.", psub)
    p.add_argument("--name", required=True, help="Practice name")
    p.add_argument("--country", required=True, choices=["AT", "DE", "CH"])
    p.add_argument("--timezone", help="IANA zone; default from the country, e.g. Europe/Vienna")
    p.add_argument("--language", default="de", choices=["de", "en"])
    add("list", cmd_practice_list, "List practices as JSON lines.", psub)

    user = sub.add_parser("user", help="Manage staff logins.")
    usub = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    u = add(
        "create", cmd_user_create, "Create a staff login; asks for or generates a password.", usub
    )
    u.add_argument("--practice", required=True, help="Practice id (UUID)")
    u.add_argument("--email", required=True)
    u.add_argument("--role", required=True, choices=["owner", "staff"])
    u.add_argument(
        "--generate-password",
        action="store_true",
        help="Do not ask; generate a password and print it",
    )

    apikey = sub.add_parser("apikey", help="Manage API keys.")
    asub = apikey.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = add("create", cmd_apikey_create, "Create an API key; printed only here.", asub)
    a.add_argument("--practice", required=True, help="Practice id (UUID)")
    a.add_argument("--name", default="cli", help="A name to recognise the key by")
    r = add("revoke", cmd_apikey_revoke, "Revoke an API key by its prefix.", asub)
    r.add_argument("prefix", help="The 12 hex characters after 'pb_'")

    add("demo", cmd_demo, "Create the demo practice and print its login once.")

    s = add("serve", cmd_serve, "Serve staff UI, API and (unless --no-worker) the worker.")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--no-worker", action="store_true", help="Do not run the embedded worker")
    s.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="Requests in flight per channel account (embedded worker)",
    )

    w = add("worker", cmd_worker, "Run a standalone outbox worker (any number may run).")
    w.add_argument(
        "--concurrency", type=int, default=8, help="Requests in flight per channel account"
    )
    w.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="Messages claimed at once (default PRAXISBOTE_OUTBOX_BATCH_SIZE, 500)",
    )
    w.add_argument(
        "--exit-when-idle",
        action="store_true",
        help="Stop when nothing is due now (messages scheduled for later do not keep it running)",
    )
    w.add_argument(
        "--no-jobs",
        action="store_true",
        help="Do not run periodic jobs (retention, lease rescue, status polling)",
    )

    credits = sub.add_parser("credits", help="Manage prepaid credit.")
    csub = credits.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = add("add", cmd_credits_add, "Record a credit purchase (or a correction if negative).", csub)
    c.add_argument("--practice", required=True, help="Practice id (UUID)")
    c.add_argument("--amount", required=True, help="Amount in the account's currency, e.g. 25")
    c.add_argument("--note", default="", help="Shown in the statement")
    pr = add(
        "prices",
        cmd_credits_prices,
        "Show or set a practice's prices per message/segment and free units per month.",
        csub,
    )
    pr.add_argument("--practice", required=True, help="Practice id (UUID)")
    pr.add_argument("--sms", help="Price per SMS segment, e.g. 0.10")
    pr.add_argument("--threema", help="Price per Threema message, e.g. 0.015")
    pr.add_argument("--email", help="Price per e-mail (default 0)")
    pr.add_argument("--free-sms", type=int, help="Free SMS segments per month")
    pr.add_argument("--free-threema", type=int, help="Free Threema messages per month")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Database, attachments and keys hold patient data: readable by this user only.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        return _fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
