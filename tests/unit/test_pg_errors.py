"""The one driver-error table: SQLSTATE and constraint name to domain errors that name no table, constraint or
function, with the schema's own RAISE messages passed on."""
from __future__ import annotations

import psycopg2
import psycopg2.errors
import pytest

from shared.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ShardUnavailable,
    Unavailable,
)
from shared.grpc_errors import leaks
from shared.pg import errors as pg_errors

RAISED = "PL/pgSQL function take_payment(bigint) line 12 at RAISE"


class _Diag:
    def __init__(self, **fields):
        self.message_primary = fields.get("message", 'insert or update on table "x" violates foreign key '
                                                     'constraint "x_fkey"')
        self.table_name = fields.get("table")
        self.constraint_name = fields.get("constraint")
        self.message_hint = fields.get("hint")
        self.column_name = fields.get("column")
        self.context = fields.get("context")
        self.sqlstate = fields.get("sqlstate")


E = psycopg2.errors
SQLSTATES = {E.ForeignKeyViolation: "23503", E.UniqueViolation: "23505", E.CheckViolation: "23514",
             E.ObjectNotInPrerequisiteState: "55000", E.InvalidParameterValue: "22023", E.NoDataFound: "P0002",
             E.SerializationFailure: "40001", E.DeadlockDetected: "40P01", E.LockNotAvailable: "55P03",
             E.NumericValueOutOfRange: "22003", E.StringDataRightTruncation: "22001",
             E.DatetimeFieldOverflow: "22008", E.QueryCanceled: "57014", E.UndefinedTable: "42P01"}


def _error(base: type, **fields) -> psycopg2.Error:
    return type("Raised", (base,), {"diag": _Diag(**fields), "pgcode": SQLSTATES[base]})()


def translate(base: type, **fields) -> Exception:
    return pg_errors.domain_error(_error(base, **fields), "eu", "primary")


def test_a_constraint_names_the_domain_error_and_never_reaches_the_caller():
    fk = translate(psycopg2.errors.ForeignKeyViolation, constraint="course_categories_parent_id_fkey")
    assert isinstance(fk, FailedPrecondition) and fk.reason == "PARENT_CATEGORY_NOT_FOUND"
    assert "fkey" not in fk.message and "violates" not in fk.message
    dup = translate(psycopg2.errors.UniqueViolation, constraint="course_categories_slug_key")
    assert isinstance(dup, AlreadyExists) and dup.metadata == {"resource": "category", "field": "slug"}
    paid = translate(psycopg2.errors.UniqueViolation, constraint="transactions_paid_enrollment_key")
    assert paid.reason == "ENROLLMENT_NOT_UNPAID"


def test_the_schema_messages_written_for_callers_are_passed_on():
    fk = translate(psycopg2.errors.ForeignKeyViolation, constraint="transactions_enrollment_id_fkey",
                   message="enrollment 5 is not an enrollment of user 7", context=RAISED)
    assert (fk.reason, fk.message) == ("ENROLLMENT_NOT_FOUND", "enrollment 5 is not an enrollment of user 7")
    state = translate(psycopg2.errors.ObjectNotInPrerequisiteState, hint="ALREADY_REFUNDED",
                      message="charge 5 is already fully refunded", context=RAISED)
    assert isinstance(state, FailedPrecondition) and state.reason == "ALREADY_REFUNDED"
    bad = translate(psycopg2.errors.InvalidParameterValue, column="amount.amount", message="must be 5", context=RAISED)
    assert isinstance(bad, InvalidArgument) and bad.violations[0].field == "amount.amount"
    missing = translate(psycopg2.errors.NoDataFound, table="transactions", message="transaction 5 not found",
                        context=RAISED)
    assert isinstance(missing, NotFound) and missing.metadata["resource"] == "transaction"


@pytest.mark.parametrize("base", [psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected,
                                  psycopg2.errors.LockNotAvailable])
def test_conflicts_are_aborted_without_the_driver_text(base):
    error = translate(base, message="deadlock detected", context="Process 123 waits for ShareLock on transaction 9")
    assert isinstance(error, Aborted) and error.reason == "CONCURRENT_UPDATE"
    assert not leaks(error.message) and "123" not in error.message


def test_deleting_a_referenced_row_names_the_dependents():
    error = translate(psycopg2.errors.ForeignKeyViolation, table="users", constraint="courses_instructor_id_fkey",
                      message='update or delete on table "users" violates foreign key constraint')
    assert error.reason == "USER_HAS_DEPENDENTS" and not leaks(error.message)


@pytest.mark.parametrize("base, field", [(psycopg2.errors.CheckViolation, "token"),
                                         (psycopg2.errors.NumericValueOutOfRange, "request"),
                                         (psycopg2.errors.StringDataRightTruncation, "request"),
                                         (psycopg2.errors.DatetimeFieldOverflow, "request")])
def test_values_no_column_can_hold_are_invalid_arguments(base, field):
    error = translate(base, constraint="payment_methods_vault_token_check")
    assert isinstance(error, InvalidArgument) and error.violations[0].field == field
    assert "_check" not in error.message


def test_timeouts_and_lost_nodes_are_unavailable_naming_the_shard():
    assert isinstance(translate(psycopg2.errors.QueryCanceled), Unavailable)
    lost = pg_errors.domain_error(psycopg2.OperationalError("server closed the connection"), "eu", "replica")
    assert isinstance(lost, ShardUnavailable) and (lost.shard, lost.role) == ("eu", "replica")
    assert "closed" not in lost.message


def test_an_error_the_table_does_not_know_is_left_for_the_interceptor():
    other = _error(psycopg2.errors.UndefinedTable, sqlstate="42P01")
    assert pg_errors.domain_error(other, "eu", "primary") is other
