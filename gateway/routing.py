"""Where a call goes: find its region (x-region metadata, the request's region field, or the shard encoded
in the resource ID it names), then the backend configured for (service, region or shard), else the
service's default backend. Pure functions over descriptors and configuration; no I/O."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf import descriptor, message_factory
from google.protobuf.message import DecodeError

from elearning.common.v1 import common_pb2
from shared.errors import InvalidArgument, Unavailable
from shared.proto_values import region_name
from shared.sharding import REGIONS, ShardMap

ANY = "any"
REGION_ENUM = common_pb2.Region.DESCRIPTOR.full_name
REGION_NAMES = {v.number: region_name(v.number) for v in common_pb2.Region.DESCRIPTOR.values if v.number}
# Calls that read or write every shard; they go to the service's default backend, which fans out.
FAN_OUT = {
    "elearning.courses.v1.CourseService/ListCourses",
    "elearning.courses.v1.CourseService/ListCategories",
    "elearning.courses.v1.CourseService/CreateCategory",
    "elearning.courses.v1.CourseService/GetCategory",
}


@dataclass(frozen=True)
class RouteKey:
    """How to find the routing key in one method's request: field paths to a region, then to an ID."""

    region_paths: tuple[tuple[str, ...], ...]
    id_paths: tuple[tuple[str, ...], ...]
    has_request_id: bool


@dataclass(frozen=True)
class Target:
    service: str
    region: str  # a region name, or ANY
    shard: str   # a shard name, or ANY
    address: str


def _is_region(field: descriptor.FieldDescriptor) -> bool:
    return field.type == field.TYPE_ENUM and field.enum_type.full_name == REGION_ENUM and field.name == "region"


def _is_id(field: descriptor.FieldDescriptor) -> bool:
    return field.type == field.TYPE_INT64 and not field.is_repeated and (
        field.name == "id" or field.name.endswith("_id"))


def route_key(request: descriptor.Descriptor) -> RouteKey:
    """Derive the routing fields of a request type: its own `region`, its resource's `region`, its own `id`,
    its resource's `id`, then its first `*_id` field in declaration order."""
    regions, own_ids, resource_ids, foreign_ids = [], [], [], []
    for field in request.fields:
        if _is_region(field):
            regions.append((field.name,))
        elif _is_id(field):
            (own_ids if field.name == "id" else foreign_ids).append((field.name,))
        elif field.type == field.TYPE_MESSAGE and not field.is_repeated:
            for inner in field.message_type.fields:
                if _is_region(inner):
                    regions.append((field.name, inner.name))
                elif inner.name == "id" and _is_id(inner):
                    resource_ids.append((field.name, inner.name))
    return RouteKey(tuple(regions), tuple(own_ids + resource_ids + foreign_ids[:1]),
                    "request_id" in request.fields_by_name)


def _get(message, path: tuple[str, ...]):
    for name in path:
        message = getattr(message, name)
    return message


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
    """Per-method routing: parses only as much of a request as it needs to find its region or shard."""

    def __init__(self, routes: Routes, methods: Mapping[str, tuple[str, descriptor.Descriptor]]):
        """`methods` maps "/pkg.Service/Method" to (backend service key, request descriptor)."""
        self.routes = routes
        self._methods = {
            path: (service, route_key(request), message_factory.GetMessageClass(request))
            for path, (service, request) in methods.items()}

    def knows(self, method: str) -> bool:
        return method in self._methods

    def has_request_id(self, method: str, request: bytes) -> bool:
        _service, key, cls = self._methods[method]
        return key.has_request_id and bool(self._parse(cls, request).request_id)

    @staticmethod
    def _parse(cls, request: bytes):
        try:
            return cls.FromString(request)
        except DecodeError:
            raise InvalidArgument("request", "is not a valid serialized request message") from None

    def target(self, method: str, request: bytes, region_header: str | None) -> Target:
        service, key, cls = self._methods[method]
        if region_header:
            region = region_header.strip().upper()
            if region not in REGIONS:
                raise InvalidArgument("x-region", f"unknown region {region_header!r}; expected one of "
                                                  + ", ".join(REGIONS))
            return self.routes.resolve(service, region, None)
        if method.lstrip("/") in FAN_OUT or not (key.region_paths or key.id_paths):
            return self.routes.resolve(service, None, None)
        message = self._parse(cls, request)
        for path in key.region_paths:
            value = _get(message, path)
            if value:
                name = REGION_NAMES.get(value)
                if name is not None:
                    return self.routes.resolve(service, name, None)
        for path in key.id_paths:
            value = _get(message, path)
            if value:
                try:
                    return self.routes.resolve(service, None, self.routes.shard_map.for_id(value).name)
                except InvalidArgument:
                    break  # a malformed ID: the backend names the field in its own error
        return self.routes.resolve(service, None, None)
