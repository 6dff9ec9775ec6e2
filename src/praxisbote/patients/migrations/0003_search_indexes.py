"""Indexes for the patient search (patients list and patient picker).

The search looks for fragments (``UPPER(last_name::text) LIKE '%MÜL%'``, Django's
``icontains`` on PostgreSQL) in first and last name, e-mail and mobile number. A B-tree
cannot serve a fragment: for a fragment nobody has, PostgreSQL read all 50,000 patients
of a practice (about 60 ms each keystroke). A trigram GIN index (``pg_trgm``) over the
same four expressions finds them in about 1 ms. SQLite (one practice on one box) has no
such index and needs none at that size.

``pg_trgm`` is a trusted extension (PostgreSQL 13+): the database owner may create it.
Where it cannot be created (no privilege, or contrib not installed) the index is left
out with a warning and the search stays correct, only slower; docs/operations.md gives
the two statements an administrator runs to add it later.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, migrations, models, transaction

log = logging.getLogger(__name__)

TRIGRAM_INDEX = "patient_search_trgm"
COLUMNS = ("first_name", "last_name", "email", "mobile")


def create_trigram_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        log.warning(
            "pg_trgm is not available (%s): the patient search works without its index, "
            "but slower for large practices. See docs/operations.md.",
            exc,
        )
        return
    expressions = ", ".join(f"UPPER(({c})::text) gin_trgm_ops" for c in COLUMNS)
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON patients_patient "
        f"USING gin ({expressions})"
    )


def drop_trigram_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_alter_patient_options"),
        ("practices", "0002_practice_sms_smart_encoding"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["practice", "birth_date"], name="patient_birth_date"),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index, elidable=False),
    ]
