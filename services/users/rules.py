"""Validation and normalisation rules of users: each broken rule names the request field it concerns."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from services.users.domain import PROFILE_FIELDS, ROLES, Profile
from shared import validation
from shared.errors import Violations

MAX_NAME = 200
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
PROFILE_LIMITS = {"headline": 200, "bio": 5000, "avatar_url": 2048, "website_url": 2048, "time_zone": 64,
                  "language": 35}
SHARED_RULES = {"time_zone": validation.time_zone, "language": validation.language}
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def normalize_email(raw: str) -> str:
    return raw.strip().lower()


def email_problem(email: str) -> str | None:
    """Why a normalised email is malformed, or None when it is well-formed."""
    if not email:
        return "is required"
    if len(email) > 254:
        return "must be at most 254 characters"
    local, sep, domain = email.rpartition("@")
    if not sep or not local or not domain:
        return f"{email!r} is not an email address (expected name@domain)"
    if (len(local) > 64 or not _LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(".")
            or ".." in local):
        return f"{email!r} has a malformed local part"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        return f"{email!r} has a malformed domain"
    return None


def check_full_name(raw: str, violations: Violations, field: str = "user.full_name") -> str:
    return validation.text(raw, field, violations, limit=MAX_NAME)


def check_email(raw: str, violations: Violations, field: str = "user.email") -> str:
    email = normalize_email(raw)
    problem = email_problem(email)
    if problem:
        violations.add(field, problem)
    return email


def check_role(role: str, violations: Violations, field: str = "user.role") -> str:
    if role in ("", "USER_ROLE_UNSPECIFIED"):
        return "STUDENT"
    if role not in ROLES:
        violations.add(field, f"unknown role {role!r}")
    return role


def check_password(password: str, violations: Violations, field: str = "password", *, required: bool = False) -> None:
    if not password and not required:
        return
    if len(password) < MIN_PASSWORD:
        violations.add(field, f"must be at least {MIN_PASSWORD} characters")
    elif len(password) > MAX_PASSWORD:
        violations.add(field, f"must be at most {MAX_PASSWORD} characters")


def check_profile(values: dict[str, str], violations: Violations, prefix: str = "user.profile") -> dict[str, str]:
    cleaned = {}
    for name, value in values.items():
        value = value.strip()
        if len(value) > PROFILE_LIMITS[name]:
            violations.add(f"{prefix}.{name}", f"must be at most {PROFILE_LIMITS[name]} characters")
        if name.endswith("_url") and value:
            try:
                parts = urlsplit(value)
            except ValueError:  # an unbalanced [ in the host, say
                parts = urlsplit("")
            if parts.scheme not in ("http", "https") or not parts.netloc:
                violations.add(f"{prefix}.{name}", "must be an http(s) URL")
        elif name in SHARED_RULES and len(value) <= PROFILE_LIMITS[name]:
            SHARED_RULES[name](value, f"{prefix}.{name}", violations)
        cleaned[name] = value
    return cleaned


def profile_from(values: dict[str, str]) -> Profile:
    return Profile(**{k: values.get(k, "") for k in PROFILE_FIELDS})

