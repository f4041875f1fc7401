"""A server process (shared.server.run_process) whose start-up goes on for SLOW_START_S after its gRPC server
is listening, as a real one's does while it opens pools and runs its first shard checks; for
test_process_start.py."""
import sys
import time

from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from shared.server import ProcessParts, ServiceBinding, run_process

SLOW_START_S = 2.0
SERVICE = "elearning.users.v1.UserService"


def build(_settings) -> ProcessParts:
    binding = ServiceBinding(SERVICE, lambda server: pb_grpc.add_UserServiceServicer_to_server(
        pb_grpc.UserServiceServicer(), server))
    return ProcessParts(bindings=[binding], on_start=lambda _health: time.sleep(SLOW_START_S))


if __name__ == "__main__":
    sys.exit(run_process("users", build))
