"""The one table from PostgreSQL errors (SQLSTATE, then constraint name) to domain errors.

A domain error says what the caller did wrong, never how the server is built: no SQL, relation, constraint or
function name, PID or transaction ID reaches it. The driver's full text stays on the exception chain
(`raise mapped from exc`), which the error interceptor writes to the log with the call's request ID. Only a
message the schema raises on purpose (RAISE EXCEPTION in sql/migrations, written for callers) is passed on.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg2

from shared.errors import (
    Aborted,
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ShardUnavailable,
    Unavailable,
)

SERIALIZATION_FAILURE, DEADLOCK, LOCK_NOT_AVAILABLE = "40001", "40P01", "55P03"
UNIQUE, FOREIGN_KEY, CHECK, NOT_NULL = "23505", "23503", "23514", "23502"
NO_DATA_FOUND, NOT_IN_STATE, INVALID_PARAMETER = "P0002", "55000", "22023"
QUERY_CANCELED, READ_ONLY = "57014", "25006"

RESOURCES = {"users": "user", "user_profiles": "user", "email_directory": "user", "courses": "course",
             "course_categories": "category", "course_reviews": "review", "enrollments": "enrollment",
             "lesson_progress": "lesson progress", "transactions": "transaction",
             "payment_methods": "payment method", "invoices": "invoice"}
# Checks a validated request should never reach; if one does, the request field it concerns.
CHECK_FIELDS = {"payment_methods_vault_token_check": "token",
                "transactions_refunded_amount_check": "amount.amount",
                "payment_methods_country_code_check": "payment_method.country_code",
                "payment_methods_last4_check": "payment_method.last4"}
# Data exceptions (class 22) the driver raises for a value no column can hold: the caller sent it.
DATA_PROBLEMS = {"22001": "a text is too long", "22003": "a number is out of range",
                 "22008": "a date or time is out of range", "22P02": "a value is malformed",
                 "22P05": "a text holds characters that cannot be stored", "22021": "a text is not valid UTF-8",
                 "22007": "a date or time is malformed", "22004": "a required value is missing"}


@dataclass(frozen=True)
class Fault:
    """What the table matches on, read from the driver's diagnostics."""

    sqlstate: str
    constraint: str
    table: str
    column: str
    hint: str
    authored: str  # the message of a RAISE EXCEPTION in the schema (meant for callers), else ""
    on_delete: bool  # a foreign key violated by deleting the referenced row


def fault_of(exc: psycopg2.Error) -> Fault:
    diag = getattr(exc, "diag", None)

    def read(name: str) -> str:
        return (getattr(diag, name, None) or "") if diag is not None else ""

    primary = read("message_primary")
    return Fault(sqlstate=exc.pgcode or read("sqlstate"), constraint=read("constraint_name"),
                 table=read("table_name"), column=read("column_name"), hint=read("message_hint"),
                 authored=primary if "at RAISE" in read("context") else "",
                 on_delete=primary.startswith("update or delete on table"))


def _not_found(what: str, reason: str) -> Callable[[Fault], DomainError]:
    return lambda f: FailedPrecondition(f.authored or f"the {what} does not exist", reason=reason)


BY_CONSTRAINT: dict[tuple[str, str], Callable[[Fault], DomainError]] = {
    (UNIQUE, "users_email_key"): lambda f: AlreadyExists("user", "email"),
    (UNIQUE, "email_directory_pkey"): lambda f: AlreadyExists("user", "email"),
    (UNIQUE, "course_categories_slug_key"): lambda f: AlreadyExists("category", "slug"),
    (UNIQUE, "course_reviews_student_key"): lambda f: AlreadyExists("review", "student_id"),
    (UNIQUE, "enrollments_live_key"): lambda f: AlreadyExists("enrollment", "course_id"),
    (UNIQUE, "transactions_paid_enrollment_key"): lambda f: FailedPrecondition(
        "the enrollment is already paid", reason="ENROLLMENT_NOT_UNPAID"),
    (FOREIGN_KEY, "course_categories_parent_id_fkey"): _not_found("parent category", "PARENT_CATEGORY_NOT_FOUND"),
    (FOREIGN_KEY, "courses_category_id_fkey"): _not_found("category", "CATEGORY_NOT_FOUND"),
    (FOREIGN_KEY, "courses_instructor_id_fkey"): _not_found("instructor", "INSTRUCTOR_NOT_FOUND"),
    (FOREIGN_KEY, "enrollments_student_id_fkey"): _not_found("student", "STUDENT_NOT_FOUND"),
    (FOREIGN_KEY, "transactions_enrollment_id_fkey"): _not_found("enrollment", "ENROLLMENT_NOT_FOUND"),
    (FOREIGN_KEY, "transactions_payment_method_id_fkey"): _not_found("payment method", "PAYMENT_METHOD_NOT_FOUND"),
    (FOREIGN_KEY, "payment_methods_user_id_fkey"): _not_found("user", "USER_NOT_FOUND"),
    (FOREIGN_KEY, "lesson_progress_lesson_fkey"): lambda f: InvalidArgument(
        "lesson_id", f.authored or "is not a lesson of the enrolled course"),
}


def _by_sqlstate(f: Fault, shard: str, role: str) -> DomainError | None:
    resource = RESOURCES.get(f.table, "resource")
    if f.sqlstate in (SERIALIZATION_FAILURE, DEADLOCK, LOCK_NOT_AVAILABLE):
        return Aborted(f"a concurrent update on shard {shard} conflicted with this call; retry it",
                       reason="CONCURRENT_UPDATE", metadata={"shard": shard})
    if f.sqlstate == QUERY_CANCELED:
        return Unavailable(f"shard {shard} ({role}) did not answer in time", reason="SHARD_TIMEOUT",
                           metadata={"shard": shard, "role": role})
    if f.sqlstate == READ_ONLY:
        return ShardUnavailable(shard, role, "the node is read-only (in recovery); no primary to write to")
    if f.sqlstate == UNIQUE:
        return AlreadyExists(resource, "key")
    if f.sqlstate == FOREIGN_KEY:
        if f.on_delete:
            return FailedPrecondition(f"the {resource} still has dependent records (courses, enrollments or "
                                      "payments)", reason=f"{resource.upper().replace(' ', '_')}_HAS_DEPENDENTS")
        return FailedPrecondition(f.authored or "a referenced record does not exist", reason="REFERENCE_NOT_FOUND")
    if f.sqlstate == CHECK:
        return InvalidArgument(CHECK_FIELDS.get(f.constraint, "request"), "holds a value out of the accepted range")
    if f.sqlstate == NOT_NULL:
        return InvalidArgument(f.column or "request", "is required")
    if f.sqlstate == NO_DATA_FOUND:
        return NotFound(resource if f.table else (f.authored.split(" ", 1)[0] or resource), "",
                        message=f.authored or f"{resource} not found")
    if f.sqlstate == NOT_IN_STATE:
        return FailedPrecondition(f.authored or f"the {resource} is not in a state that allows this",
                                  reason=f.hint or "FAILED_PRECONDITION")
    if f.sqlstate == INVALID_PARAMETER:
        return InvalidArgument(f.column or "request", f.authored or "has a value out of the accepted range")
    if f.sqlstate in DATA_PROBLEMS:
        return InvalidArgument(f.column or "request", DATA_PROBLEMS[f.sqlstate])
    return None


def lost_connection(exc: psycopg2.Error) -> bool:
    """A failure of the node or the connection, not of the statement.

    psycopg2 files SQLSTATE classes 53 to 58 under OperationalError too (55000, object not in prerequisite
    state, is a rule the schema raises), so the class alone is not enough: a server-sent error counts only
    when it is a connection exception (08), out of resources (53) or an operator shutdown (57P).
    """
    if isinstance(exc, psycopg2.InterfaceError):
        return True
    if not isinstance(exc, psycopg2.OperationalError):
        return False
    code = exc.pgcode or ""
    return not code or code.startswith(("08", "53", "57P"))


def domain_error(exc: psycopg2.Error, shard: str, role: str) -> Exception:
    """The domain error for `exc` on `shard` (`role`: primary or replica), or `exc` itself when it is not one
    the table knows (a defect: the error interceptor answers INTERNAL and logs it)."""
    if lost_connection(exc):
        return ShardUnavailable(shard, role)
    fault = fault_of(exc)
    # A foreign key broken by a delete means dependents exist, whatever the constraint means on insert.
    rule = None if fault.on_delete else BY_CONSTRAINT.get((fault.sqlstate, fault.constraint))
    if rule is not None:
        return rule(fault)
    return _by_sqlstate(fault, shard, role) or exc
