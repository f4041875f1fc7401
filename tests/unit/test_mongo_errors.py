"""shared.mongo: driver errors become domain errors naming the shard; each shard gets its database with majority
concerns; settings without MongoDB are refused."""
import pytest
from pymongo.errors import (
    AutoReconnect,
    DuplicateKeyError,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
    WTimeoutError,
)

from shared import mongo
from shared.errors import ShardUnavailable, Unavailable
from shared.settings import local_topology, parse_shard_map


@pytest.mark.parametrize("error", [ServerSelectionTimeoutError("127.0.0.1:27027: [Errno 111] Connection refused"),
                                   AutoReconnect("connection closed"), NetworkTimeout("timed out")])
def test_an_unreachable_server_is_shard_unavailable(error):
    mapped = mongo.translate(error, "apac")
    assert isinstance(mapped, ShardUnavailable)
    assert mapped.metadata == {"shard": "apac", "role": "mongo"} and mapped.reason == "SHARD_UNAVAILABLE"
    assert "127.0.0.1" not in mapped.message and "Errno" not in mapped.message  # the driver's text is for the log


@pytest.mark.parametrize("error", [ExecutionTimeout("operation exceeded time limit", 50),
                                   WTimeoutError("waiting for replication timed out", 64)])
def test_a_slow_server_is_unavailable(error):
    mapped = mongo.translate(error, "eu")
    assert isinstance(mapped, Unavailable) and mapped.reason == "SHARD_TIMEOUT"
    assert mapped.metadata["shard"] == "eu"


@pytest.mark.parametrize("error", [DuplicateKeyError("E11000", 11000), OperationFailure("validation", 121)])
def test_errors_a_store_handles_pass_through(error):
    assert mongo.translate(error, "na") is error


def test_a_topology_without_mongodb_is_refused():
    topology = local_topology()
    topology["shards"][1]["mongo_uri"] = ""
    with pytest.raises(ValueError, match="eu"):
        mongo.MongoShards(parse_shard_map(topology), connect_timeout_s=1, operation_timeout_s=1, pool_size=1,
                          app_name="test")


def test_every_shard_gets_its_database_with_majority_concerns():
    topology = local_topology()
    shards = mongo.MongoShards(parse_shard_map(topology), connect_timeout_s=2, operation_timeout_s=5, pool_size=1,
                               app_name="test")
    try:
        for name in ("na", "eu", "apac"):
            db = shards.database(name)
            assert db.name == f"elearning_{name}"
            assert db.write_concern.document == {"w": "majority", "wtimeout": 5000}
            assert db.read_concern.level == "majority"
        assert shards.database("na").client is shards.database("apac").client  # one local server, one client
    finally:
        shards.close()
