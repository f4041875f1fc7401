"""Boot the enrollments service: pools, the courses client and the fan-out pool; then serve until signalled."""
from __future__ import annotations

import sys

from elearning.enrollments.v1 import enrollments_service_pb2, enrollments_service_pb2_grpc
from services.enrollments.api import EnrollmentApi
from services.enrollments.courses_client import GrpcCourseCatalog
from services.enrollments.service import EnrollmentService
from services.enrollments.store import PgEnrollmentStore
from shared.clients import ServiceClients
from shared.fan_out import FanOut
from shared.pg.pools import ShardPools
from shared.pg.unit_of_work import PgUnitsOfWork
from shared.server import ProcessParts, ServiceBinding, run_process
from shared.settings import Settings

SERVICE_NAME = enrollments_service_pb2.DESCRIPTOR.services_by_name["EnrollmentService"].full_name


def build(settings: Settings) -> ProcessParts:
    pools = ShardPools.from_settings(settings)
    clients = ServiceClients(settings)
    fan_out = FanOut(max_workers=2 * len(settings.shard_map.shards))
    api = EnrollmentApi(EnrollmentService(PgEnrollmentStore(pools), settings.shard_map, GrpcCourseCatalog(clients),
                                          fan_out, units=PgUnitsOfWork(pools)))

    def stop() -> None:
        fan_out.shutdown(wait=False)
        clients.close()
        pools.close()

    return ProcessParts(
        bindings=[ServiceBinding(SERVICE_NAME, lambda server: enrollments_service_pb2_grpc
                                 .add_EnrollmentServiceServicer_to_server(api, server))],
        on_stop=stop, shard_gates=pools.gates)


if __name__ == "__main__":
    sys.exit(run_process("enrollments", build))
