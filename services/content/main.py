"""Boot the content service: the MongoDB databases of every shard (validators and indexes), the course and
user directories, the servicer; then serve until signalled."""
from __future__ import annotations

import sys

from elearning.content.v1 import content_service_pb2, content_service_pb2_grpc
from services.content.api import ContentApi
from services.content.courses_client import GrpcCourseDirectory
from services.content.service import ContentService
from services.content.store import MongoContentStore
from services.content.users_client import GrpcUserDirectory
from shared.clients import ServiceClients
from shared.mongo import MongoShards
from shared.server import ProcessParts, ServiceBinding, run_process
from shared.settings import Settings

SERVICE_NAME = content_service_pb2.DESCRIPTOR.services_by_name["ContentService"].full_name


def build(settings: Settings) -> ProcessParts:
    try:
        mongo = MongoShards.from_settings(settings)
    except ValueError as exc:
        raise SystemExit(f"content: bad settings: {exc}") from None
    store = MongoContentStore(mongo)
    store.prepare(time_limit_s=settings.statement_timeout_ms / 1000)
    clients = ServiceClients(settings)
    api = ContentApi(ContentService(store, settings.shard_map, GrpcCourseDirectory(clients),
                                    GrpcUserDirectory(clients)))

    def stop() -> None:
        clients.close()
        mongo.close()

    return ProcessParts(
        bindings=[ServiceBinding(
            SERVICE_NAME, lambda server: content_service_pb2_grpc.add_ContentServiceServicer_to_server(api, server))],
        on_stop=stop)


if __name__ == "__main__":
    sys.exit(run_process("content", build))
