"""Fixtures of the integration tests that call the content service (helpers in content_client.py)."""
from __future__ import annotations

import pymongo
import pytest

from tests.channels import open_channel
from tests.integration.content_client import SHARDS
from tests.integration.courses_client import category, course, instructor


@pytest.fixture(scope="module")
def content_channel(cluster):
    with open_channel(cluster, cluster.service("content")) as channel:
        yield channel


@pytest.fixture(scope="module")
def courses(gateway_channel):
    """A course in ASIA (apac shard) and one in EUROPE (eu shard), each with 2 modules of 3 lessons."""
    topic = category(gateway_channel)
    return {region: course(gateway_channel, instructor(gateway_channel, region).id, topic.id)
            for region in ("ASIA", "EUROPE")}


@pytest.fixture(scope="module")
def mongo(cluster):
    """The shard databases of the cluster's MongoDB, by shard name, through a client of our own."""
    shard_map = cluster.settings("content").shard_map
    client = pymongo.MongoClient(shard_map.by_name("na").mongo_uri, serverSelectionTimeoutMS=5000, tz_aware=True)
    yield {name: client[shard_map.by_name(name).mongo_db] for name in SHARDS}
    client.close()
