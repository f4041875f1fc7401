"""services.users.rules: validation and normalisation, each broken rule naming its field."""
import pytest

from services.users import rules
from shared.errors import Violations


def fields(violations: Violations) -> list[tuple[str, str]]:
    return [(v.field, v.description) for v in violations.items]


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@example.com", "o'brien@sub.example.org",
                                   "x@xn--bcher-kva.example", "a@b-c.io", "a" * 64 + "@example.com"])
def test_well_formed_emails(email):
    assert rules.email_problem(email) is None


@pytest.mark.parametrize("email, problem", [
    ("", "is required"),
    ("not-an-email", "is not an email address"),
    ("@example.com", "is not an email address"),
    ("user@", "is not an email address"),
    (".user@example.com", "malformed local part"),
    ("user.@example.com", "malformed local part"),
    ("us..er@example.com", "malformed local part"),
    ("us er@example.com", "malformed local part"),
    ("a" * 65 + "@example.com", "malformed local part"),
    ("user@localhost", "malformed domain"),
    ("user@-example.com", "malformed domain"),
    ("user@example-.com", "malformed domain"),
    ("user@exa_mple.com", "malformed domain"),
    ("user@example..com", "malformed domain"),
    ("user@10.0.0.1", "malformed domain"),
    ("a@" + "b" * 250 + ".com", "at most 254 characters"),
])
def test_malformed_emails(email, problem):
    assert problem in rules.email_problem(email)


@pytest.mark.parametrize("email", ["a\n@example.com", "user@example\n.com"])
def test_newline_inside_an_email_is_malformed(email):
    assert rules.email_problem(email) is not None


def test_check_email_normalises():
    violations = Violations()
    assert rules.check_email("  Ada.Lovelace@Example.COM \t", violations) == "ada.lovelace@example.com"
    assert violations.items == []


def test_check_email_names_its_field():
    violations = Violations()
    rules.check_email("nope", violations, field="email")
    assert fields(violations) == [("email", "'nope' is not an email address (expected name@domain)")]


def test_full_name():
    violations = Violations()
    assert rules.check_full_name("  Ada  ", violations) == "Ada"
    assert rules.check_full_name("x" * 200, violations) == "x" * 200
    rules.check_full_name(" \t ", violations)
    rules.check_full_name("x" * 201, violations)
    assert fields(violations) == [("user.full_name", "must not be blank"),
                                  ("user.full_name", "must be at most 200 characters (got 201)")]


@pytest.mark.parametrize("role, expected", [("", "STUDENT"), ("USER_ROLE_UNSPECIFIED", "STUDENT"),
                                            ("INSTRUCTOR", "INSTRUCTOR"), ("ADMIN", "ADMIN")])
def test_role(role, expected):
    violations = Violations()
    assert rules.check_role(role, violations) == expected
    assert violations.items == []


def test_unknown_role():
    violations = Violations()
    rules.check_role("SUPERUSER", violations)
    assert fields(violations) == [("user.role", "unknown role 'SUPERUSER'")]


@pytest.mark.parametrize("password, required, problem", [
    ("", False, None), ("12345678", False, None), ("x" * 1024, True, None),
    ("", True, "must be at least 8 characters"), ("1234567", False, "must be at least 8 characters"),
    ("x" * 1025, False, "must be at most 1024 characters")])
def test_password(password, required, problem):
    violations = Violations()
    rules.check_password(password, violations, required=required)
    assert fields(violations) == ([("password", problem)] if problem else [])


def test_profile_is_trimmed_and_checked():
    violations = Violations()
    cleaned = rules.check_profile({"bio": "  hi  ", "headline": "h" * 201, "avatar_url": "ftp://x/a.png",
                                   "website_url": "https://ada.example"}, violations)
    assert cleaned["bio"] == "hi"
    assert fields(violations) == [("user.profile.headline", "must be at most 200 characters"),
                                  ("user.profile.avatar_url", "must be an http(s) URL")]


def test_profile_from_fills_missing_fields():
    profile = rules.profile_from({"bio": "b"})
    assert (profile.bio, profile.headline, profile.language) == ("b", "", "")
