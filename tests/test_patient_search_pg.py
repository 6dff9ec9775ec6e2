"""The patient search stays fast with 50,000 patients in a practice (PostgreSQL).

Name, e-mail and mobile fragments are ``UPPER(col::text) LIKE '%…%'``: without the
trigram index of migration patients 0003 PostgreSQL reads every patient of the practice
for a fragment nobody has (about 60 ms at 50,000 patients, each keystroke); with it the
plan is a bitmap scan of that index (about 1 ms). A birth date uses patient_birth_date.
The plan, not a time, is asserted: times depend on the machine's load.
"""

from __future__ import annotations

import pytest
from django.db import connection
from tests.many_patients import add_patients

from praxisbote.patients.services import _ranked, create_patient, find_patients
from praxisbote.practices.services import create_practice

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigram index exists on PostgreSQL only"
)


def plan_of(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


# Committed rows and VACUUM ANALYZE (outside a transaction): inside a test's transaction
# the statistics of 100,000 uncommitted rows mislead the planner, as no server would be.
@pytest.mark.django_db(transaction=True)
def test_search_in_50000_patients_uses_the_indexes(practice):
    add_patients(practice, 50_000)
    add_patients(create_practice(name="Nachbarpraxis", country="AT"), 50_000)
    target = create_patient(
        practice,
        {
            "first_name": "Maria",
            "last_name": "Zwölfer",
            "birth_date": "1988-11-23",
            "mobile": "0676 9876543",
            "email": "maria.z@example.at",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE patients_patient")
    for query in ("zwö", "Zwölfer", "9876543", "maria.z@"):
        assert [p.pk for p in find_patients(practice, query)[0]] == [target.pk], query
        plan = plan_of(_ranked(practice, query)[:11])
        assert "patient_search_trgm" in plan, (query, plan)
    assert target.pk in [p.pk for p in find_patients(practice, "23.11.1988")[0]]
    plan = plan_of(_ranked(practice, "23.11.1988")[:11])
    assert "patient_birth_date" in plan, plan
