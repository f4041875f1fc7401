"""Boot the courses service: pools, in-doubt recovery, the enrollments client; then serve until signalled."""
from __future__ import annotations

import sys

from elearning.courses.v1 import courses_service_pb2, courses_service_pb2_grpc
from services.courses.api import CourseApi
from services.courses.enrollments_client import GrpcEnrollmentChecker
from services.courses.service import CourseService
from services.courses.store import PgCourseStore
from shared.clients import ServiceClients
from shared.fan_out import FanOut
from shared.pg.pools import ShardPools
from shared.pg.recovery import RecoveryLoop
from shared.pg.unit_of_work import PgUnitsOfWork
from shared.server import ProcessParts, ServiceBinding, run_process
from shared.settings import Settings

SERVICE_NAME = courses_service_pb2.DESCRIPTOR.services_by_name["CourseService"].full_name


def build(settings: Settings) -> ProcessParts:
    pools = ShardPools.from_settings(settings)
    recovery = RecoveryLoop(pools)
    recovery.start()
    clients = ServiceClients(settings)
    fan_out = FanOut(max_workers=2 * len(settings.shard_map.shards))
    api = CourseApi(CourseService(PgCourseStore(pools), settings.shard_map, GrpcEnrollmentChecker(clients),
                                  fan_out, units=PgUnitsOfWork(pools)))

    def stop() -> None:
        recovery.stop()
        fan_out.shutdown(wait=False)
        clients.close()
        pools.close()

    return ProcessParts(
        bindings=[ServiceBinding(
            SERVICE_NAME, lambda server: courses_service_pb2_grpc.add_CourseServiceServicer_to_server(api, server))],
        on_stop=stop, shard_gates=pools.gates)


if __name__ == "__main__":
    sys.exit(run_process("courses", build))
