"""The access table covers the API: every public method (read from the proto descriptors) has a rule, every
rule names a real method, and every ownership field it names exists in the request or reply."""
from __future__ import annotations

from google.protobuf import descriptor_pool

from gateway.catalog import public_methods
from shared.auth import policy

KNOWN = {policy.ANONYMOUS, policy.STUDENT, policy.INSTRUCTOR, policy.ADMIN, policy.SSO,
         *(f"service:{name}" for name in ("users", "courses", "enrollments", "payments", "content"))}


def _method(name: str):
    return descriptor_pool.Default().FindMethodByName(name.lstrip("/").replace("/", "."))


def _has_path(message, path: str) -> bool:
    for part in path.split("."):
        field = message.fields_by_name.get(part)
        if field is None:
            return False
        message = field.message_type
    return True


def test_every_public_method_has_a_rule():
    missing = sorted(set(public_methods()) - set(policy.RULES))
    assert not missing, f"methods without an access rule in shared/auth/policy.py: {missing}"


def test_every_rule_names_a_public_method_and_known_identities():
    assert not set(policy.RULES) - set(public_methods())
    for method, rule in policy.RULES.items():
        assert rule.allow and rule.allow <= KNOWN, method


def test_ownership_fields_exist():
    for method, rule in policy.RULES.items():
        found = _method(method)
        if rule.owner:
            assert _has_path(found.input_type, rule.owner), (method, rule.owner)
        if rule.reply_owner:
            assert _has_path(found.output_type, rule.reply_owner), (method, rule.reply_owner)
            assert _has_path(found.input_type, rule.hidden_as[1]), (method, rule.hidden_as)


def test_only_admins_reach_what_only_admins_may_do():
    for name in ("UserService/ListUsers", "PaymentService/RefundPayment", "PaymentService/GetRevenueReport",
                 "CourseService/CreateCategory"):
        rule = next(r for m, r in policy.RULES.items() if m.endswith(name))
        assert rule.allow == policy.ADMINS, name


def test_anonymous_may_only_sign_up_sign_in_and_read_the_catalogue():
    anonymous = {m.rsplit("/", 1)[1] for m, r in policy.RULES.items() if policy.ANONYMOUS in r.allow}
    assert anonymous == {"CreateUser", "Login", "RefreshToken", "Logout", "GetJwks", "GetCategory",
                         "ListCategories", "GetCourse", "ListCourses", "ListReviews"}
