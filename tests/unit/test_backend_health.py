"""gateway.backends.HealthWatcher: a backend that answers NOT_SERVING is down at once, one that does not answer
is down only after `misses_to_down` checks in a row (one slow answer under load is not an outage), one never
heard from is down, and one answer SERVING brings it back."""
from gateway.backends import HealthWatcher

SERVICE = "elearning.users.v1.UserService"


class Scripted(HealthWatcher):
    """Backends answer what each check's script says: True (SERVING), False (NOT_SERVING), None (no answer)."""

    def __init__(self, addresses: set[str]):
        super().__init__(backends=None, services={SERVICE: addresses}, misses_to_down=2)  # type: ignore[arg-type]
        self.script: dict[str, bool | None] = {}
        self.asked: list[str] = []

    def _backend_serving(self, address, service):
        self.asked.append(address)
        return self.script[address]


def states(watcher: Scripted, *answers: dict[str, bool | None]) -> list[bool]:
    seen = []
    for answer in answers:
        watcher.script = answer
        seen.append(watcher.check_once()[SERVICE])
    return seen


def test_one_missed_check_is_not_an_outage_two_in_a_row_are():
    watcher = Scripted({"a"})
    assert states(watcher, {"a": True}, {"a": None}, {"a": True}, {"a": None}, {"a": None}, {"a": True}) == [
        True, True, True, True, False, True]


def test_not_serving_is_down_at_once():
    watcher = Scripted({"a"})
    assert states(watcher, {"a": True}, {"a": False}, {"a": True}) == [True, False, True]


def test_a_backend_never_heard_from_is_down():
    watcher = Scripted({"a"})
    assert states(watcher, {"a": None}, {"a": True}) == [False, True]


def test_every_backend_is_asked_and_any_one_down_is_the_service_down():
    watcher = Scripted({"a", "b"})
    assert states(watcher, {"a": True, "b": True}, {"a": False, "b": None}, {"a": True, "b": None}) == [
        True, False, False]
    assert watcher.asked.count("b") == 3  # asked even when "a" already said the service is down
