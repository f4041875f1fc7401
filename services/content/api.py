"""The gRPC edge of the content service: proto ↔ domain, nothing else."""
from __future__ import annotations

import dataclasses

from google.protobuf import empty_pb2

from elearning.common.v1 import common_pb2
from elearning.content.v1 import content_service_pb2 as pb
from elearning.content.v1 import content_service_pb2_grpc as pb_grpc
from services.content.domain import (
    NOTIFICATION_FIELDS,
    Content,
    ContentItem,
    Document,
    Notifications,
    Preferences,
    Rendition,
    Video,
)
from services.content.service import PREFERENCE_PATHS, UPDATABLE, ContentService
from shared.proto_values import enum_name, enum_texts, enum_value, region_value, timestamp

REGIONS = enum_texts(common_pb2.Region)


def to_proto(item: ContentItem) -> pb.ContentItem:
    c = item.content
    message = pb.ContentItem(
        id=item.id, course_id=c.course_id, lesson_id=c.lesson_id,
        region=region_value(item.region) if item.region in REGIONS else 0,
        kind=enum_value(pb.ContentKind, c.kind), title=c.title, description=c.description, tags=list(c.tags),
        position=c.position, version=item.version, create_time=timestamp(item.created_at),
        update_time=timestamp(item.updated_at))
    if c.video is not None:
        message.video.CopyFrom(pb.VideoDetails(
            duration_seconds=c.video.duration_seconds, storage_url=c.video.storage_url,
            transcript=c.video.transcript,
            renditions=[pb.Rendition(**dataclasses.asdict(r)) for r in c.video.renditions]))
    if c.document is not None:
        message.document.CopyFrom(pb.DocumentDetails(**dataclasses.asdict(c.document)))
    return message


def content_from(item: pb.ContentItem) -> Content:
    details = item.WhichOneof("details")
    video = document = None
    if details == "video":
        video = Video(item.video.duration_seconds,
                      tuple(Rendition(r.resolution, r.bitrate_kbps, r.url) for r in item.video.renditions),
                      item.video.storage_url, item.video.transcript)
    elif details == "document":
        d = item.document
        document = Document(d.mime_type, d.size_bytes, d.page_count, d.url)
    return Content(course_id=item.course_id, lesson_id=item.lesson_id,
                   kind=enum_name(pb.ContentKind, item.kind, "content_item.kind"), title=item.title,
                   description=item.description, tags=tuple(item.tags), position=item.position, video=video,
                   document=document)


def preferences_to_proto(p: Preferences) -> pb.UserPreferences:
    return pb.UserPreferences(
        user_id=p.user_id, language=p.language, playback_speed=p.playback_speed,
        captions_enabled=p.captions_enabled, caption_language=p.caption_language,
        notifications=pb.NotificationSettings(**dataclasses.asdict(p.notifications)),
        theme=enum_value(pb.Theme, p.theme), update_time=timestamp(p.updated_at), version=p.version)


def preferences_from(m: pb.UserPreferences) -> Preferences:
    return Preferences(
        user_id=m.user_id, language=m.language, playback_speed=m.playback_speed,
        captions_enabled=m.captions_enabled, caption_language=m.caption_language,
        notifications=Notifications(**{name: getattr(m.notifications, name) for name in NOTIFICATION_FIELDS}),
        theme=enum_name(pb.Theme, m.theme, "preferences.theme"), version=m.version)


def _populated(message, allowed) -> list[str]:
    return [f.name for f, _ in message.ListFields() if f.name in allowed]


class ContentApi(pb_grpc.ContentServiceServicer):
    def __init__(self, service: ContentService):
        self.service = service

    def CreateContent(self, request: pb.CreateContentRequest, context) -> pb.ContentItem:
        return to_proto(self.service.create_content(content_from(request.content_item), request.request_id))

    def GetContent(self, request: pb.GetContentRequest, context) -> pb.ContentItem:
        return to_proto(self.service.get_content(request.id))

    def ListContent(self, request: pb.ListContentRequest, context) -> pb.ListContentResponse:
        kind = enum_name(pb.ContentKind, request.kind, "kind")
        items, token = self.service.list_content(
            request.course_id, request.lesson_id if request.HasField("lesson_id") else None,
            None if kind == "CONTENT_KIND_UNSPECIFIED" else kind, request.page_size, request.page_token)
        return pb.ListContentResponse(content_items=[to_proto(i) for i in items], next_page_token=token)

    def UpdateContent(self, request: pb.UpdateContentRequest, context) -> pb.ContentItem:
        item = request.content_item
        paths = list(request.update_mask.paths) or _populated(item, UPDATABLE)
        return to_proto(self.service.update_content(item.id, item.version, paths, content_from(item)))

    def DeleteContent(self, request: pb.DeleteContentRequest, context) -> empty_pb2.Empty:
        self.service.delete_content(request.id, request.expected_version)
        return empty_pb2.Empty()

    def GetPreferences(self, request: pb.GetPreferencesRequest, context) -> pb.UserPreferences:
        return preferences_to_proto(self.service.get_preferences(request.user_id))

    def UpdatePreferences(self, request: pb.UpdatePreferencesRequest, context) -> pb.UserPreferences:
        sent = request.preferences
        paths = list(request.update_mask.paths) or _populated(sent, PREFERENCE_PATHS)
        return preferences_to_proto(self.service.update_preferences(sent.user_id, sent.version, paths,
                                                                    preferences_from(sent)))
