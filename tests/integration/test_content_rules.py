"""Every validation rule over gRPC: INVALID_ARGUMENT naming the field, and nothing written to any database."""
from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from elearning.content.v1 import content_service_pb2 as pb
from tests.integration.content_client import content_counts, create, document_item, stub, video_item
from tests.integration.users_client import field_violations

VIDEO_CASES = {
    "blank title": ({"title": "  "}, {}, "content_item.title"),
    "title too long": ({"title": "x" * 201}, {}, "content_item.title"),
    "description too long": ({"description": "x" * 5001}, {}, "content_item.description"),
    "blank tag": ({"tags": ["ok", " "]}, {}, "content_item.tags[1]"),
    "too many tags": ({"tags": [f"t{i}" for i in range(21)]}, {}, "content_item.tags"),
    "negative position": ({"position": -1}, {}, "content_item.position"),
    "negative lesson": ({"lesson_id": -2}, {}, "content_item.lesson_id"),
    "no kind": ({"kind": pb.CONTENT_KIND_UNSPECIFIED}, {}, "content_item.kind"),
    "unknown kind": ({"kind": 7}, {}, "content_item.kind"),
    "zero duration": ({}, {"duration_seconds": 0}, "content_item.video.duration_seconds"),
    "negative duration": ({}, {"duration_seconds": -10}, "content_item.video.duration_seconds"),
    "missing storage url": ({}, {"storage_url": ""}, "content_item.video.storage_url"),
    "malformed storage url": ({}, {"storage_url": "uploads/v.mp4"}, "content_item.video.storage_url"),
    "ftp storage url": ({}, {"storage_url": "ftp://uploads.example.com/v.mp4"}, "content_item.video.storage_url"),
    "bad rendition": ({}, {"renditions": [pb.Rendition(resolution="", bitrate_kbps=0, url="x")]},
                      "content_item.video.renditions[0].resolution"),
}
DOCUMENT_CASES = {
    "unknown MIME type": ({"mime_type": "application/x-sh"}, "content_item.document.mime_type"),
    "missing MIME type": ({"mime_type": ""}, "content_item.document.mime_type"),
    "zero size": ({"size_bytes": 0}, "content_item.document.size_bytes"),
    "size over the limit": ({"size_bytes": 3 * 1024 ** 3}, "content_item.document.size_bytes"),
    "negative page count": ({"page_count": -1}, "content_item.document.page_count"),
    "malformed url": ({"url": "https://"}, "content_item.document.url"),
}


def bad_create(channel, item: pb.ContentItem) -> dict[str, str]:
    with pytest.raises(grpc.RpcError) as caught:
        create(channel, item)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    return field_violations(caught.value)


@pytest.mark.parametrize("case", sorted(VIDEO_CASES))
def test_bad_videos(content_channel, courses, mongo, case):
    fields, video_fields, field = VIDEO_CASES[case]
    item = video_item(courses["ASIA"].id, **fields)
    for name, value in video_fields.items():
        if name == "renditions":
            del item.video.renditions[:]
            item.video.renditions.extend(value)
        else:
            setattr(item.video, name, value)
    before = content_counts(mongo)
    assert field in bad_create(content_channel, item)
    assert content_counts(mongo) == before


@pytest.mark.parametrize("case", sorted(DOCUMENT_CASES))
def test_bad_documents(content_channel, courses, mongo, case):
    fields, field = DOCUMENT_CASES[case]
    item = document_item(courses["EUROPE"].id)
    for name, value in fields.items():
        setattr(item.document, name, value)
    before = content_counts(mongo)
    assert field in bad_create(content_channel, item)
    assert content_counts(mongo) == before


def test_details_must_match_the_kind(content_channel, courses):
    course_id = courses["ASIA"].id
    no_details = pb.ContentItem(course_id=course_id, kind=pb.CONTENT_KIND_VIDEO, title="t")
    assert "content_item.video" in bad_create(content_channel, no_details)
    wrong_branch = document_item(course_id, kind=pb.CONTENT_KIND_VIDEO)
    assert {"content_item.video", "content_item.document"} <= set(bad_create(content_channel, wrong_branch))


@pytest.mark.parametrize("course_id", [0, 12345, (1 << 62) | (9 << 10)])
def test_a_missing_or_malformed_course_id(content_channel, course_id):
    assert "content_item.course_id" in bad_create(content_channel, video_item(course_id))


def test_malformed_content_ids(content_channel):
    content = stub(content_channel)
    for bad in ("", "65f0c1a2b3c4d5e6f7a8b9c0", "3-xyz", "77-65f0c1a2b3c4d5e6f7a8b9c0"):
        with pytest.raises(grpc.RpcError) as caught:
            content.GetContent(pb.GetContentRequest(id=bad), timeout=5)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "id" in field_violations(caught.value)


def test_bad_updates_change_nothing(content_channel, courses, mongo):
    item = create(content_channel, video_item(courses["EUROPE"].id, title="Untouched"))
    content = stub(content_channel)
    cases = [(["title"], pb.ContentItem(title=" "), "content_item.title"),
             (["video.duration_seconds"], pb.ContentItem(video=pb.VideoDetails(duration_seconds=-1)),
              "content_item.video.duration_seconds"),
             (["document"], pb.ContentItem(document=pb.DocumentDetails()), "update_mask"),
             (["course_id"], pb.ContentItem(course_id=1), "update_mask")]
    for paths, change, field in cases:
        change.id, change.version = item.id, 1
        with pytest.raises(grpc.RpcError) as caught:
            content.UpdateContent(pb.UpdateContentRequest(content_item=change,
                                                          update_mask=field_mask_pb2.FieldMask(paths=paths)), timeout=5)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, paths
        assert field in field_violations(caught.value), (paths, field_violations(caught.value))
    assert content.GetContent(pb.GetContentRequest(id=item.id), timeout=5) == item
