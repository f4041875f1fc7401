"""Content over gRPC against the real local MongoDB: placement, order, pages, versions, idempotency."""
from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from elearning.common.v1 import common_pb2
from elearning.content.v1 import content_service_pb2 as pb
from shared import ids
from tests.integration.content_client import (
    content_counts,
    create,
    document_item,
    lesson_ids,
    object_id,
    stub,
    video_item,
    where,
)
from tests.integration.courses_client import category, course, instructor
from tests.integration.users_client import error_info, field_violations


def test_content_of_an_apac_course_is_only_in_the_apac_database(cluster, content_channel, courses, mongo):
    asia = courses["ASIA"]
    item = create(content_channel, video_item(asia.id, lesson_id=lesson_ids(asia)[0]))
    assert ids.decode_document_id(item.id)[0] == cluster.settings().shard_map.by_name("apac").number
    assert (item.region, item.version, list(item.tags)) == (common_pb2.REGION_ASIA, 1, ["intro"])
    assert where(mongo, item.id) == ["apac"]
    stored = mongo["apac"].content_items.find_one({"_id": object_id(item.id)})
    assert (stored["course_id"], stored["lesson_id"], stored["kind"], stored["region"]) == (
        asia.id, lesson_ids(asia)[0], "VIDEO", "ASIA")
    assert stored["video"]["renditions"] == [{"resolution": "720p", "bitrate_kbps": 2500,
                                              "url": "https://cdn.example.com/v/720.m3u8"}]
    assert stub(content_channel).GetContent(pb.GetContentRequest(id=item.id), timeout=5) == item


def test_a_european_course_document_is_in_the_eu_database(content_channel, courses, mongo):
    item = create(content_channel, document_item(courses["EUROPE"].id))
    assert where(mongo, item.id) == ["eu"] and item.region == common_pb2.REGION_EUROPE
    assert item.document.mime_type == "application/pdf" and item.document.size_bytes == 4096


def test_through_the_gateway(gateway_channel, courses):
    item = create(gateway_channel, video_item(courses["EUROPE"].id, title="Via gateway"))
    assert stub(gateway_channel).GetContent(pb.GetContentRequest(id=item.id), timeout=5).title == "Via gateway"


def test_list_in_lesson_order_and_paginate(gateway_channel, content_channel):
    fresh = course(gateway_channel, instructor(gateway_channel, "OCEANIA").id, category(gateway_channel).id)
    lessons = sorted(lesson_ids(fresh))
    plan = [(lessons[2], 0, "c0"), (0, 1, "top1"), (lessons[0], 2, "a2"), (lessons[0], 0, "a0"), (0, 0, "top0"),
            (lessons[0], 2, "a2-later"), (lessons[1], 5, "b5")]
    for lesson, position, title in plan:
        create(content_channel, video_item(fresh.id, lesson_id=lesson, position=position, title=title))
    expected = ["top0", "top1", "a0", "a2", "a2-later", "b5", "c0"]
    content = stub(content_channel)
    whole = content.ListContent(pb.ListContentRequest(course_id=fresh.id), timeout=5)
    assert [i.title for i in whole.content_items] == expected and whole.next_page_token == ""
    seen, token, pages = [], "", 0
    while True:
        page = content.ListContent(pb.ListContentRequest(course_id=fresh.id, page_size=3, page_token=token), timeout=5)
        seen += [i.title for i in page.content_items]
        token, pages = page.next_page_token, pages + 1
        if not token:
            break
    assert (seen, pages) == (expected, 3)
    in_lesson = content.ListContent(pb.ListContentRequest(course_id=fresh.id, lesson_id=lessons[0]), timeout=5)
    assert [i.title for i in in_lesson.content_items] == ["a0", "a2", "a2-later"]
    top = content.ListContent(pb.ListContentRequest(course_id=fresh.id, lesson_id=0), timeout=5)
    assert [i.title for i in top.content_items] == ["top0", "top1"]
    token = content.ListContent(pb.ListContentRequest(course_id=fresh.id, page_size=1), timeout=5).next_page_token
    with pytest.raises(grpc.RpcError) as caught:  # a token is bound to the query that made it
        content.ListContent(pb.ListContentRequest(course_id=fresh.id, lesson_id=lessons[1], page_token=token),
                            timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in field_violations(caught.value)


def test_update_with_a_stale_version_is_aborted(content_channel, courses, mongo):
    item = create(content_channel, video_item(courses["EUROPE"].id, title="v1"))
    content = stub(content_channel)
    mask = field_mask_pb2.FieldMask(paths=["title", "video.duration_seconds"])
    updated = content.UpdateContent(pb.UpdateContentRequest(content_item=pb.ContentItem(
        id=item.id, version=1, title="v2", video=pb.VideoDetails(duration_seconds=42)), update_mask=mask), timeout=5)
    assert (updated.title, updated.version, updated.video.duration_seconds) == ("v2", 2, 42)
    assert updated.video.storage_url == item.video.storage_url and updated.create_time == item.create_time
    with pytest.raises(grpc.RpcError) as caught:
        content.UpdateContent(pb.UpdateContentRequest(content_item=pb.ContentItem(
            id=item.id, version=1, title="lost update"), update_mask=field_mask_pb2.FieldMask(paths=["title"])),
            timeout=5)
    assert caught.value.code() == grpc.StatusCode.ABORTED
    assert error_info(caught.value).metadata["current_version"] == "2"
    stored = mongo["eu"].content_items.find_one({"_id": object_id(item.id)})
    assert (stored["title"], stored["version"], stored["video"]["duration_seconds"]) == ("v2", 2, 42)


def test_delete_checks_the_version(content_channel, courses, mongo):
    item = create(content_channel, video_item(courses["ASIA"].id))
    content = stub(content_channel)
    with pytest.raises(grpc.RpcError) as caught:
        content.DeleteContent(pb.DeleteContentRequest(id=item.id, expected_version=5), timeout=5)
    assert caught.value.code() == grpc.StatusCode.ABORTED
    content.DeleteContent(pb.DeleteContentRequest(id=item.id, expected_version=1), timeout=5)
    assert where(mongo, item.id) == []
    with pytest.raises(grpc.RpcError) as caught:
        content.GetContent(pb.GetContentRequest(id=item.id), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_retried_create_returns_the_first_item_and_a_reused_key_is_invalid(content_channel, courses, mongo):
    request_id = str(uuid.uuid4())
    first = create(content_channel, video_item(courses["ASIA"].id, title="Once"), request_id)
    before = content_counts(mongo)
    assert create(content_channel, video_item(courses["ASIA"].id, title="Once"), request_id) == first
    with pytest.raises(grpc.RpcError) as caught:
        create(content_channel, video_item(courses["ASIA"].id, title="Other"), request_id)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "request_id" in field_violations(caught.value)
    assert error_info(caught.value).reason == "REQUEST_ID_REUSED"
    assert content_counts(mongo) == before
    key = mongo["apac"].idempotency_keys.find_one({"_id": f"content.CreateContent:{request_id}"})
    assert key["object_id"] == object_id(first.id) and key["completed"]


def test_an_unfinished_create_is_completed_by_its_retry(content_channel, courses, mongo):
    request_id = str(uuid.uuid4())
    first = create(content_channel, video_item(courses["EUROPE"].id, title="Crashed"), request_id)
    # As if the first attempt had stopped after claiming its key but before inserting the item.
    mongo["eu"].content_items.delete_one({"_id": object_id(first.id)})
    mongo["eu"].idempotency_keys.update_one({"_id": f"content.CreateContent:{request_id}"},
                                            {"$set": {"completed": False}})
    again = create(content_channel, video_item(courses["EUROPE"].id, title="Crashed"), request_id)
    assert again == first and where(mongo, first.id) == ["eu"]


def test_a_course_that_does_not_exist_is_failed_precondition(cluster, content_channel, mongo):
    apac = cluster.settings().shard_map.by_name("apac").number
    missing = ids.encode(ids.EPOCH_MS + 1000, apac, 1)  # a well-formed ID of a course never created
    before = content_counts(mongo)
    with pytest.raises(grpc.RpcError) as caught:
        create(content_channel, video_item(missing))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).reason == "COURSE_NOT_FOUND"
    assert content_counts(mongo) == before


def test_a_lesson_of_another_course_is_failed_precondition(content_channel, courses):
    with pytest.raises(grpc.RpcError) as caught:
        create(content_channel, video_item(courses["ASIA"].id, lesson_id=lesson_ids(courses["EUROPE"])[0]))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).reason == "LESSON_NOT_IN_COURSE"


def test_the_collections_and_index_exist_in_every_shard_database(mongo):
    for name, db in mongo.items():
        assert {"content_items", "user_preferences", "idempotency_keys"} <= set(db.list_collection_names()), name
        keys = [list(index["key"]) for index in db.content_items.list_indexes()]
        assert ["course_id", "lesson_id", "position"] in keys, (name, keys)
