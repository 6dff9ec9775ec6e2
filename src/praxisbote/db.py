"""Database helpers for the hot paths of the outbox.

``fast_insert`` exists because Django's ``bulk_create`` converts every value of every row
through the field (about 35 calls per row): for a 10,000-message batch that is most of the
request time. Rows of one batch repeat most values (practice, state, times, texts), so each
distinct value is converted once and the rows go to the driver with ``executemany``.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def fast_insert(objs: Sequence[models.Model]) -> None:
    """INSERT ``objs`` (one model, primary keys set, no signals) in few round trips."""
    if not objs:
        return
    meta = type(objs[0])._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and f.auto_created)]
    if any(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) for f in fields):
        for obj in objs:  # let auto_now fields stamp themselves
            for field in fields:
                setattr(obj, field.attname, field.pre_save(obj, add=True))
    getter = operator.attrgetter(*(f.attname for f in fields))
    insert_values(type(objs[0]), [f.attname for f in fields], map(getter, objs))


def insert_values(
    model: type[models.Model], attnames: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """INSERT plain value rows (``attnames`` order) without building model instances."""
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    fields = [by_attname[name] for name in attnames]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    prepared = _prepare(fields, rows)
    if not prepared:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams all rows in one command: far fewer round trips than INSERTs.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - quoted model names; values are parameters
        for start in range(0, len(prepared), 2000):
            cursor.executemany(sql, prepared[start : start + 2000])


def clone(template: models.Model, **changes: Any) -> models.Model:
    """A new unsaved instance with ``template``'s field values plus ``changes``.

    ``Model.__init__`` costs ~60 µs (defaults, descriptors, signals); a batch of 10,000
    messages that differ in a few fields is built far faster from one template. Only plain
    attribute names (``practice_id``, not ``practice``) may be changed here; related-object
    caches are copied from the template.
    """
    obj = template.__class__.__new__(template.__class__)
    obj.__dict__.update(template.__dict__)
    state = models.base.ModelState()
    state.adding = True
    state.fields_cache = dict(template._state.fields_cache)
    obj._state = state
    obj.__dict__.update(changes)
    return obj


def loaded(model: type[models.Model], attnames: Sequence[str], rows: Iterable[Sequence[Any]]):
    """Instances of ``model`` from database rows holding only ``attnames``.

    What ``Model.from_db`` does with the other fields deferred (reading one loads it from
    the database), without running ``__init__`` for each row. Values must be what the
    driver returns for these columns and need no conversion (true for UUIDs, times,
    numbers and texts on PostgreSQL).
    """
    alias = connection.alias
    new = model.__new__
    objs = []
    for row in rows:
        obj = new(model)
        state = models.base.ModelState()
        state.adding = False
        state.db = alias
        obj._state = state
        obj.__dict__.update(zip(attnames, row, strict=True))
        objs.append(obj)
    return objs


def fast_update(objs: Sequence[models.Model], field_names: Sequence[str]) -> None:
    """Write ``field_names`` of ``objs`` back in one statement per 500 rows.

    Columns whose value is the same in every row are plain ``SET col = %s``; the others
    come from ``FROM (VALUES …)`` joined on the primary key (SQLite >= 3.33, PostgreSQL).
    Django's ``bulk_update`` builds a CASE per field instead, and one UPDATE per row costs a
    round trip each: both cost milliseconds per message in the worker's hot path.
    """
    if not objs:
        return
    meta = type(objs[0])._meta
    fields = [meta.get_field(name) for name in field_names]
    pk = meta.pk
    pk_conv = _Converter(pk)
    rows = [
        (pk_conv(obj.pk), values) for obj, values in zip(objs, _rows(objs, fields), strict=True)
    ]
    varying = [
        i for i in range(len(fields)) if len({_hashable(values[i]) for _, values in rows}) > 1
    ]
    constant = [i for i in range(len(fields)) if i not in varying]
    quote = connection.ops.quote_name
    table, pk_col = quote(meta.db_table), quote(pk.column)
    sets = [f"{quote(fields[i].column)} = %s" for i in constant]
    # VALUES columns are called column1, column2, … in SQLite and PostgreSQL alike.
    sets += [
        f"{quote(fields[i].column)} = {_cast(f'v.column{n}', fields[i])}"
        for n, i in enumerate(varying, start=2)
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            shared = [chunk[0][1][i] for i in constant]
            if not varying:
                marks = ", ".join(["%s"] * len(chunk))
                sql = f"UPDATE {table} SET {', '.join(sets)} WHERE {pk_col} IN ({marks})"  # noqa: S608 - quoted model names; values are parameters
                cursor.execute(sql, [*shared, *(pk_value for pk_value, _ in chunk)])
                continue
            row_marks = "(" + ", ".join(["%s"] * (1 + len(varying))) + ")"
            sql = (
                f"UPDATE {table} SET {', '.join(sets)} "  # noqa: S608 - as above
                f"FROM (VALUES {', '.join([row_marks] * len(chunk))}) AS v "
                f"WHERE {table}.{pk_col} = {_cast('v.column1', pk)}"
            )
            params = [*shared]
            for pk_value, values in chunk:
                params += [pk_value, *(values[i] for i in varying)]
            cursor.execute(sql, params)


# Values of these field types go to the driver unchanged on SQLite and PostgreSQL alike.
_PLAIN = {
    "CharField",
    "TextField",
    "EmailField",
    "URLField",
    "SlugField",
    "BooleanField",
    "IntegerField",
    "PositiveIntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveSmallIntegerField",
    "BigAutoField",
    "AutoField",
}


def _rows(objs: Sequence[models.Model], fields: Sequence[models.Field]) -> list[list[Any]]:
    """Driver-ready values of ``fields`` for each object, converting only what needs it."""
    return _prepare(fields, ([getattr(obj, f.attname) for f in fields] for obj in objs))


def _prepare(fields: Sequence[models.Field], rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    converters = [None if f.get_internal_type() in _PLAIN else _Converter(f) for f in fields]
    convert = [(i, c) for i, c in enumerate(converters) if c is not None]
    prepared = []
    for values in rows:
        row = list(values)
        for i, conv in convert:
            row[i] = conv(row[i])
        prepared.append(row)
    return prepared


class _Converter:
    """``field.get_db_prep_save`` with a memory: rows of a batch repeat most values."""

    __slots__ = ("cache", "field", "uuid_hex", "uuid_native")

    def __init__(self, field: models.Field) -> None:
        self.field = field
        self.cache: dict[Any, Any] = {}
        # Ids are unique, so caching cannot help them: SQLite stores UUIDs as hex, and
        # PostgreSQL's driver takes UUIDs (and their text) as they are. Going through the
        # field costs ~10 µs per id, as much as the rest of an event row.
        target = field.target_field if isinstance(field, models.ForeignKey) else field
        is_uuid = isinstance(target, models.UUIDField)
        self.uuid_native = is_uuid and connection.features.has_native_uuid_field
        self.uuid_hex = is_uuid and not self.uuid_native

    def __call__(self, value: Any) -> Any:
        if self.uuid_hex and isinstance(value, uuid.UUID):
            return value.hex
        if self.uuid_native and isinstance(value, uuid.UUID | str):
            return value
        try:
            return self.cache[(type(value), value)]
        except KeyError:
            converted = self.cache[(type(value), value)] = self.field.get_db_prep_save(
                value, connection
            )
            return converted
        except TypeError:  # unhashable (JSON): convert every time
            return self.field.get_db_prep_save(value, connection)


def _cast(expression: str, field: models.Field) -> str:
    """PostgreSQL types VALUES columns as text when they hold NULLs: cast to the column."""
    if connection.vendor != "postgresql":
        return expression
    return f"CAST({expression} AS {field.db_type(connection)})"


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value
