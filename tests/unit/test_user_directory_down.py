"""services.users.service: while the email directory's shard has no writable node, a sign-up whose email hashes
there is refused UNAVAILABLE (EMAIL_DIRECTORY_UNAVAILABLE, naming that shard) and nothing is created; other
failures keep their own reason."""
import pytest

from shared.errors import COMMIT_UNCONFIRMED, ShardUnavailable, Unavailable
from tests.unit.helpers import create


def down(store, shard_map, shard: str, reason: str | None = None) -> None:
    """Make the fake store fail like PgUserStore does when `shard` cannot be written."""
    real = store.create

    def create_or_fail(tx, directory, *args):
        if shard in (tx.shard, directory):
            raise ShardUnavailable(shard, "primary", reason=reason)
        return real(tx, directory, *args)

    store.create = create_or_fail


def test_a_sign_up_whose_directory_shard_is_down_is_refused_naming_it(service, store, shard_map):
    directory = shard_map.for_key("ada@example.com").name
    home = next(s.regions[0] for s in shard_map.shards if s.name != directory)
    down(store, shard_map, directory)
    with pytest.raises(Unavailable) as refused:
        create(service, email="ada@example.com", region=home)
    assert refused.value.reason == "EMAIL_DIRECTORY_UNAVAILABLE"
    assert refused.value.metadata == {"shard": directory} and directory in str(refused.value)
    assert all(rows == {} for rows in store.users.values())


@pytest.mark.parametrize("reason", [None, COMMIT_UNCONFIRMED])
def test_other_failures_keep_their_reason(service, store, shard_map, reason):
    directory = shard_map.for_key("ada@example.com").name
    home_region = next(s.regions[0] for s in shard_map.shards if s.name != directory)
    home = shard_map.for_region(home_region).name
    down(store, shard_map, home if reason is None else directory, reason)
    with pytest.raises(ShardUnavailable) as failed:
        create(service, email="ada@example.com", region=home_region)
    assert failed.value.reason == (reason or "SHARD_UNAVAILABLE")
