"""A background loop that resolves in-doubt cross-shard transactions at start-up and then periodically."""
from __future__ import annotations

import logging
import threading

from shared.pg.pools import ShardPools
from shared.pg.twophase import recover_in_doubt

log = logging.getLogger(__name__)


class RecoveryLoop:
    def __init__(self, pools: ShardPools, interval_s: float = 60.0):
        self.pools = pools
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tpc-recovery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                recover_in_doubt(self.pools)
            except Exception:  # a recovery pass must never kill the service
                log.exception("in-doubt recovery pass failed")
            if self._stop.wait(self.interval_s):
                return

    def stop(self) -> None:
        self._stop.set()
