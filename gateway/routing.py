"""Where a call goes: the method's declared rule (`gateway.route_rules`) finds its region (x-region metadata,
the request's region field, or the shard encoded in an ID it names), then the backend configured for
(service, region or shard), else the service's default backend. Pure functions over descriptors and
configuration; no I/O."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor, message_factory
from google.protobuf.message import DecodeError, Message

from elearning.common.v1 import common_pb2
from gateway.route_rules import RULES, Rule, Strategy
from shared.errors import InvalidArgument, Unavailable
from shared.proto_values import region_name
from shared.sharding import REGIONS, ShardMap

ANY = "any"
REGION_NAMES = {v.number: region_name(v.number) for v in common_pb2.Region.DESCRIPTOR.values if v.number}


@dataclass(frozen=True)
class Target:
    service: str
    region: str  # a region name, or ANY
    shard: str   # a shard name, or ANY
    address: str


@dataclass(frozen=True)
class CompiledRule:
    """A method's rule with its dotted paths split, and the request class to parse with."""

    rule: Rule
    region: tuple[str, ...]
    ids: tuple[tuple[str, ...], ...]
    request_class: type[Message]
    has_request_id: bool


def compile_rule(rule: Rule, request: descriptor.Descriptor) -> CompiledRule:
    return CompiledRule(rule, tuple(rule.region.split(".")) if rule.region else (),
                        tuple(tuple(path.split(".")) for path in rule.ids),
                        message_factory.GetMessageClass(request), "request_id" in request.fields_by_name)


def _get(message: Message, path: tuple[str, ...]) -> Any:
    value: Any = message
    for name in path:
        value = getattr(value, name)
    return value


@dataclass(frozen=True)
class Routes:
    """The routing table: service → {region name | shard name | "default": address}."""

    table: Mapping[str, Mapping[str, str]]
    shard_map: ShardMap

    def resolve(self, service: str, region: str | None, shard: str | None) -> Target:
        routes = self.table.get(service, {})
        if region:
            shard = self.shard_map.for_region(region, field="x-region").name
        for key in (region, shard, "default"):
            if key and key in routes:
                return Target(service, region or ANY, shard or ANY, routes[key])
        where = f"region {region}" if region else f"shard {shard}" if shard else "any region"
        raise Unavailable(f"no backend configured for {service} in {where}", reason="NO_BACKEND",
                          metadata={"service": service, "region": region or ANY, "shard": shard or ANY})


class MethodRouter:
    """Per-method routing by the declared rules: a request is parsed only when its rule reads a field."""

    def __init__(self, routes: Routes, methods: Mapping[str, tuple[str, descriptor.Descriptor]],
                 rules: Mapping[str, Rule] = RULES):
        """`methods` maps "/pkg.Service/Method" to (backend service key, request descriptor)."""
        self.routes = routes
        self._methods = {path: (service, compile_rule(rules[path.lstrip("/")], request))
                         for path, (service, request) in methods.items()}

    def knows(self, method: str) -> bool:
        return method in self._methods

    def has_request_id(self, method: str, request: bytes) -> bool:
        _service, rule = self._methods[method]
        return rule.has_request_id and bool(self._parse(rule.request_class, request).request_id)

    @staticmethod
    def _parse(cls: type[Message], request: bytes) -> Any:
        try:
            return cls.FromString(request)
        except DecodeError:
            raise InvalidArgument("request", "is not a valid serialized request message") from None

    def target(self, method: str, request: bytes, region_header: str | None) -> Target:
        service, rule = self._methods[method]
        if region_header:
            region = region_header.strip().upper()
            if region not in REGIONS:
                raise InvalidArgument("x-region", f"unknown region {region_header!r}; expected one of "
                                                  + ", ".join(REGIONS))
            return self.routes.resolve(service, region, None)
        if rule.rule.strategy is not Strategy.KEYED:
            return self.routes.resolve(service, None, None)
        message = self._parse(rule.request_class, request)
        if rule.region:
            name = REGION_NAMES.get(_get(message, rule.region))
            if name is not None:
                return self.routes.resolve(service, name, None)
        for path in rule.ids:
            value = _get(message, path)
            if value:
                try:
                    return self.routes.resolve(service, None, self.routes.shard_map.for_id(value).name)
                except InvalidArgument:
                    break  # a malformed ID: the backend names the field in its own error
        return self.routes.resolve(service, None, None)
