"""Boot the payments service: pools, the card processor, the courses client, the fan-out pool for reports; then
serve until signalled."""
from __future__ import annotations

import sys

from elearning.payments.v1 import payments_service_pb2, payments_service_pb2_grpc
from services.payments.api import PaymentApi
from services.payments.courses_client import GrpcCourseGate
from services.payments.processor import SandboxProcessor
from services.payments.service import PaymentService
from services.payments.store import PgPaymentStore
from shared.clients import ServiceClients
from shared.fan_out import FanOut
from shared.pg.pools import ShardPools
from shared.pg.unit_of_work import PgUnitsOfWork
from shared.server import ProcessParts, ServiceBinding, run_process
from shared.settings import Settings

SERVICE_NAME = payments_service_pb2.DESCRIPTOR.services_by_name["PaymentService"].full_name


def build(settings: Settings) -> ProcessParts:
    pools = ShardPools.from_settings(settings)
    clients = ServiceClients(settings)
    fan_out = FanOut(max_workers=2 * len(settings.shard_map.shards))
    api = PaymentApi(PaymentService(PgPaymentStore(pools), settings.shard_map, SandboxProcessor(), fan_out,
                                    courses=GrpcCourseGate(clients), units=PgUnitsOfWork(pools)))

    def stop() -> None:
        fan_out.shutdown(wait=False)
        clients.close()
        pools.close()

    def register(server) -> None:
        payments_service_pb2_grpc.add_PaymentServiceServicer_to_server(api, server)

    return ProcessParts(bindings=[ServiceBinding(SERVICE_NAME, register)], on_stop=stop, shard_gates=pools.gates)


if __name__ == "__main__":
    sys.exit(run_process("payments", build))
