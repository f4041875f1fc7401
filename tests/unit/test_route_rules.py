"""gateway.route_rules: every public method has exactly one declared rule, naming fields that exist with
the right type, and a method whose rule reads no field is routed without parsing its request."""
from __future__ import annotations

import ast
import collections
import inspect

import pytest
from google.protobuf import descriptor

from elearning.common.v1 import common_pb2
from gateway import route_rules
from gateway.catalog import public_methods
from gateway.route_rules import RULES, Strategy
from gateway.routing import MethodRouter, Routes
from shared.errors import InvalidArgument
from shared.settings import load_settings

METHODS = {path.lstrip("/"): request for path, (_service, request) in public_methods().items()}


def declared_keys() -> list[str]:
    """The keys of the RULES literal as written, so a method declared twice is seen (a dict keeps one)."""
    tree = ast.parse(inspect.getsource(route_rules))
    literal = next(node.value for node in ast.walk(tree) if isinstance(node, ast.AnnAssign)
                   and getattr(node.target, "id", "") == "RULES")
    assert isinstance(literal, ast.Dict)
    names = vars(route_rules)
    return [eval(compile(ast.Expression(key), "RULES", "eval"), names) for key in literal.keys]  # noqa: S307


def field_at(request: descriptor.Descriptor, path: str) -> descriptor.FieldDescriptor:
    *outer, last = path.split(".")
    for name in outer:
        field = request.fields_by_name[name]
        assert field.type == field.TYPE_MESSAGE and not field.is_repeated, path
        request = field.message_type
    return request.fields_by_name[last]


def test_every_public_method_has_exactly_one_rule():
    counts = collections.Counter(declared_keys())
    assert [m for m, n in counts.items() if n > 1] == []
    assert sorted(set(METHODS) - set(counts)) == [], "public methods without a routing rule"
    assert sorted(set(counts) - set(METHODS)) == [], "rules for methods that do not exist"


@pytest.mark.parametrize("method", sorted(RULES))
def test_the_fields_a_rule_names_exist_with_the_right_type(method):
    rule, request = RULES[method], METHODS[method]
    if rule.strategy is not Strategy.KEYED:
        assert not rule.region and not rule.ids
        return
    assert rule.region or rule.ids
    if rule.region:
        field = field_at(request, rule.region)
        assert field.type == field.TYPE_ENUM and field.enum_type.full_name == common_pb2.Region.DESCRIPTOR.full_name
    for path in rule.ids:
        field = field_at(request, path)
        assert field.type == field.TYPE_INT64 and not field.is_repeated, path


@pytest.fixture
def router():
    settings = load_settings("gateway", {"ELEARN_TLS_INSECURE": "1"})
    table = {name: {"default": f"{name}-any"} for name in ("users", "courses", "enrollments", "payments", "content")}
    return MethodRouter(Routes(table, settings.shard_map), public_methods())


@pytest.mark.parametrize("method", sorted(RULES))
def test_only_a_keyed_rule_parses_the_request(router, method):
    garbage = b"\xff\xff\xff"
    if RULES[method].strategy is Strategy.KEYED:
        with pytest.raises(InvalidArgument):
            router.target("/" + method, garbage, None)
    else:
        assert router.target("/" + method, garbage, None).address.endswith("-any")
