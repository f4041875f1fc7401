"""This process's copy of the ended sessions (Logout), polled from the users service every few seconds.

A token's `sid` is looked up in a frozenset swapped whole on each poll: the per-call cost is one set lookup,
and a signed-out session's access tokens are refused everywhere within one poll interval (the revocation
delay, `ELEARN_REVOCATION_POLL_S`). While the users service cannot be reached the last list is kept (and
a warning logged once): refusing every call for it would make a users outage an outage of every service.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from elearning.users.v1 import users_service_pb2, users_service_pb2_grpc
from shared.clients import ServiceClients
from shared.settings import Settings

log = logging.getLogger(__name__)


class EndedSessions:
    def __init__(self, fetch: Callable[[], Iterable[str]], poll_s: float):
        self.fetch = fetch
        self.poll_s = poll_s
        self._ids: frozenset[str] = frozenset()
        self._failing = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._ids

    def refresh(self) -> bool:
        """Fetch the list once; False (the last list kept) when it could not be fetched."""
        try:
            self._ids = frozenset(self.fetch())
        except Exception as exc:  # any failure of the fetch keeps the last list; the poll goes on
            if not self._failing:
                log.warning("cannot fetch the ended sessions; keeping the last list",
                            extra={"error": type(exc).__name__})
            self._failing = True
            return False
        if self._failing:
            log.info("fetching the ended sessions again")
        self._failing = False
        return True

    def start(self) -> EndedSessions:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ended-sessions", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.poll_s)


def poll_ended_sessions(settings: Settings) -> EndedSessions:
    """The ended sessions of the users service, polled every `settings.revocation_poll_s` with this process's
    own identity (a service call: people may not list sessions)."""
    users = ServiceClients(settings).stub("users", users_service_pb2_grpc.UserServiceStub)
    request = users_service_pb2.ListRevokedSessionsRequest()

    def fetch() -> Iterable[str]:
        reply: users_service_pb2.ListRevokedSessionsResponse = users.ListRevokedSessions(
            request, timeout=settings.call_timeout_s)
        return list(reply.session_ids)

    return EndedSessions(fetch, settings.revocation_poll_s).start()
