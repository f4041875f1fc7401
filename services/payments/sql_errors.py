"""The errors the payments schema raises on purpose (sql/migrations/0006_payments.sql), as domain errors.

no_data_found names its table, foreign_key_violation its reference, object_not_in_prerequisite_state carries
the reason in its HINT, and invalid_parameter_value names the request field in its COLUMN.
"""
from __future__ import annotations

import psycopg2.errors

from shared.errors import FailedPrecondition, InvalidArgument, NotFound

RESOURCES = {"users": "user", "transactions": "transaction", "payment_methods": "payment method",
             "invoices": "invoice"}
REFERENCES = {"transactions_enrollment_id_fkey": "ENROLLMENT_NOT_FOUND",
              "transactions_payment_method_id_fkey": "PAYMENT_METHOD_NOT_FOUND",
              "payment_methods_user_id_fkey": "USER_NOT_FOUND"}
# Checks a validated request should never reach; if one does, the field it concerns.
CHECK_FIELDS = {"payment_methods_vault_token_check": "token",
                "transactions_refunded_amount_check": "amount.amount",
                "payment_methods_country_code_check": "payment_method.country_code",
                "payment_methods_last4_check": "payment_method.last4"}


def domain_error(exc: psycopg2.Error) -> Exception:
    """The domain error for `exc`, or `exc` itself when it is not one the schema raises on purpose."""
    diag = exc.diag
    message = diag.message_primary or str(exc).strip()
    if isinstance(exc, psycopg2.errors.NoDataFound):
        return NotFound(RESOURCES.get(diag.table_name or "", "resource"), "", message=message)
    if isinstance(exc, psycopg2.errors.ForeignKeyViolation):
        return FailedPrecondition(message, reason=REFERENCES.get(diag.constraint_name or "", "REFERENCE_NOT_FOUND"))
    if isinstance(exc, psycopg2.errors.ObjectNotInPrerequisiteState):
        return FailedPrecondition(message, reason=diag.message_hint or "FAILED_PRECONDITION")
    if isinstance(exc, psycopg2.errors.InvalidParameterValue):
        return InvalidArgument(diag.column_name or "request", message)
    if isinstance(exc, psycopg2.errors.CheckViolation):
        constraint = diag.constraint_name or "a check constraint"
        return InvalidArgument(CHECK_FIELDS.get(constraint, "request"), f"violates {constraint}")
    if isinstance(exc, psycopg2.errors.UniqueViolation) and diag.constraint_name == "transactions_paid_enrollment_key":
        return FailedPrecondition("the enrollment is already paid", reason="ENROLLMENT_NOT_UNPAID")
    return exc
