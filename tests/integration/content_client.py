"""Helpers for tests that call the content service over gRPC and look at its MongoDB databases directly."""
from __future__ import annotations

import uuid

import grpc
from bson import ObjectId

from elearning.content.v1 import content_service_pb2 as pb
from elearning.content.v1 import content_service_pb2_grpc as pb_grpc
from shared import ids

SHARDS = ("na", "eu", "apac")


def stub(channel: grpc.Channel) -> pb_grpc.ContentServiceStub:
    return pb_grpc.ContentServiceStub(channel)


def lesson_ids(course) -> list[int]:
    return [lesson.id for module in course.modules for lesson in module.lessons]


def video_item(course_id: int, **fields) -> pb.ContentItem:
    base = dict(course_id=course_id, kind=pb.CONTENT_KIND_VIDEO, title="Welcome", tags=["Intro"],
                video=pb.VideoDetails(duration_seconds=300, storage_url="https://uploads.example.com/v.mp4",
                                      transcript="Hello",
                                      renditions=[pb.Rendition(resolution="720p", bitrate_kbps=2500,
                                                               url="https://cdn.example.com/v/720.m3u8")]))
    return pb.ContentItem(**{**base, **fields})


def document_item(course_id: int, **fields) -> pb.ContentItem:
    base = dict(course_id=course_id, kind=pb.CONTENT_KIND_DOCUMENT, title="Slides",
                document=pb.DocumentDetails(mime_type="application/pdf", size_bytes=4096, page_count=12,
                                            url="https://files.example.com/slides.pdf"))
    return pb.ContentItem(**{**base, **fields})


def create(channel, item: pb.ContentItem, request_id: str | None = None) -> pb.ContentItem:
    return stub(channel).CreateContent(pb.CreateContentRequest(
        content_item=item, request_id=request_id if request_id is not None else str(uuid.uuid4())), timeout=10)


def object_id(content_id: str) -> ObjectId:
    return ObjectId(ids.decode_document_id(content_id)[1])


def where(mongo, content_id: str) -> list[str]:
    """The shards whose database holds the content item."""
    return [name for name, db in mongo.items() if db.content_items.find_one({"_id": object_id(content_id)})]


def content_counts(mongo) -> dict[str, int]:
    return {name: db.content_items.count_documents({}) for name, db in mongo.items()}
