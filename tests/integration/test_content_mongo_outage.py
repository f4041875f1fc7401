"""A MongoDB that stops mid-test gives UNAVAILABLE naming the shard, within the caller's deadline (and, once the
service has noticed, within about its connect timeout); the service uses it again once it is back, with its data."""
from __future__ import annotations

import time

import grpc
import pytest

from elearning.content.v1 import content_service_pb2 as pb
from tests.integration.content_client import create, stub, video_item
from tests.integration.users_client import error_info

DEADLINE_S = 4.5  # shorter than the service's own 5 s limit: its answer must still beat the caller's deadline
KNOWN_DOWN_S = 3.5  # once the service has seen MongoDB down: its 2 s connect timeout, plus slack


def wait_until_served(content, item_id: str, timeout_s: float = 15.0) -> pb.ContentItem:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return content.GetContent(pb.GetContentRequest(id=item_id), timeout=5)
        except grpc.RpcError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_mongodb_stopped_mid_test_gives_unavailable(cluster, content_channel, courses):
    content = stub(content_channel)
    asia = courses["ASIA"].id
    item = create(content_channel, video_item(asia, title="Survives the outage"))
    calls = {
        "GetContent": lambda: content.GetContent(pb.GetContentRequest(id=item.id), timeout=DEADLINE_S),
        "ListContent": lambda: content.ListContent(pb.ListContentRequest(course_id=asia), timeout=DEADLINE_S),
        "CreateContent": lambda: content.CreateContent(pb.CreateContentRequest(
            content_item=video_item(asia), request_id="outage-create"), timeout=DEADLINE_S),
        "UpdatePreferences": lambda: content.UpdatePreferences(pb.UpdatePreferencesRequest(
            preferences=pb.UserPreferences(user_id=courses["ASIA"].instructor_id, theme=pb.THEME_DARK)),
            timeout=DEADLINE_S),
    }
    assert cluster.cluster.stop_mongo()
    try:
        for i, (name, call) in enumerate(calls.items()):
            began = time.monotonic()
            with pytest.raises(grpc.RpcError) as caught:
                call()
            elapsed = time.monotonic() - began
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, (name, caught.value.code())
            info = error_info(caught.value)
            assert (info.reason, info.metadata["shard"]) == ("SHARD_UNAVAILABLE", "apac"), name
            assert elapsed < (DEADLINE_S if i == 0 else KNOWN_DOWN_S), (name, elapsed)
    finally:
        cluster.cluster.start_mongo()
    assert wait_until_served(content, item.id) == item
