"""services.content.api: proto ↔ domain at the gRPC edge, over the service and its fakes."""
import pytest
from google.protobuf import field_mask_pb2

from elearning.common.v1 import common_pb2
from elearning.content.v1 import content_service_pb2 as pb
from services.content.api import ContentApi
from shared.errors import InvalidArgument, NotFound
from tests.unit.content_fakes import APAC_COURSE, EU_COURSE, LESSONS, make, shard_id


@pytest.fixture
def api(shard_map):
    return ContentApi(make(shard_map)[0])


def video_item(**fields) -> pb.ContentItem:
    base = dict(course_id=EU_COURSE, kind=pb.CONTENT_KIND_VIDEO, title="Intro", tags=["Go", "go"], position=1,
                video=pb.VideoDetails(duration_seconds=300, storage_url="https://uploads.example.com/a.mp4",
                                      renditions=[pb.Rendition(resolution="720p", bitrate_kbps=2500,
                                                               url="https://cdn.example.com/a/720.m3u8")]))
    return pb.ContentItem(**{**base, **fields})


def test_create_and_get_round_trip(api):
    created = api.CreateContent(pb.CreateContentRequest(content_item=video_item(course_id=APAC_COURSE)), None)
    assert created.id.startswith("3-") and len(created.id) == 26
    assert (created.region, created.version, list(created.tags)) == (common_pb2.REGION_ASIA, 1, ["go"])
    assert created.WhichOneof("details") == "video" and created.video.renditions[0].bitrate_kbps == 2500
    assert created.create_time.ToDatetime() == created.update_time.ToDatetime()
    assert api.GetContent(pb.GetContentRequest(id=created.id), None) == created


def test_a_document_round_trips(api):
    request = pb.CreateContentRequest(content_item=pb.ContentItem(
        course_id=EU_COURSE, lesson_id=LESSONS[0], kind=pb.CONTENT_KIND_DOCUMENT, title="Slides",
        document=pb.DocumentDetails(mime_type="application/pdf", size_bytes=2048, page_count=3,
                                    url="https://files.example.com/s.pdf")))
    created = api.CreateContent(request, None)
    assert created.WhichOneof("details") == "document" and created.document.size_bytes == 2048
    assert created.lesson_id == LESSONS[0] and created.region == common_pb2.REGION_EUROPE


def test_list_distinguishes_an_unset_lesson_from_lesson_zero(api):
    api.CreateContent(pb.CreateContentRequest(content_item=video_item()), None)
    api.CreateContent(pb.CreateContentRequest(content_item=video_item(lesson_id=LESSONS[1])), None)
    every = api.ListContent(pb.ListContentRequest(course_id=EU_COURSE), None)
    course_level = api.ListContent(pb.ListContentRequest(course_id=EU_COURSE, lesson_id=0), None)
    videos = api.ListContent(pb.ListContentRequest(course_id=EU_COURSE, kind=pb.CONTENT_KIND_VIDEO), None)
    assert (len(every.content_items), len(course_level.content_items), len(videos.content_items)) == (2, 1, 2)


def test_update_with_an_empty_mask_takes_the_populated_fields(api):
    created = api.CreateContent(pb.CreateContentRequest(content_item=video_item()), None)
    updated = api.UpdateContent(pb.UpdateContentRequest(content_item=pb.ContentItem(
        id=created.id, version=1, title="Renamed")), None)
    assert (updated.title, updated.position, updated.version) == ("Renamed", 1, 2)
    masked = api.UpdateContent(pb.UpdateContentRequest(
        content_item=pb.ContentItem(id=created.id, version=2, video=pb.VideoDetails(duration_seconds=10)),
        update_mask=field_mask_pb2.FieldMask(paths=["video.duration_seconds"])), None)
    assert masked.video.duration_seconds == 10 and masked.video.storage_url == created.video.storage_url


def test_an_out_of_range_enum_names_the_field(api):
    with pytest.raises(InvalidArgument) as err:
        api.CreateContent(pb.CreateContentRequest(content_item=video_item(kind=9)), None)
    assert err.value.violations[0].field == "content_item.kind"


def test_preferences_defaults_and_update(api):
    user = shard_id(1, 7)
    defaults = api.GetPreferences(pb.GetPreferencesRequest(user_id=user), None)
    assert defaults == pb.UserPreferences(user_id=user, playback_speed=1.0, theme=pb.THEME_SYSTEM, notifications=
                                          pb.NotificationSettings(email_enabled=True, weekly_digest=True,
                                                                  course_updates=True))
    assert not defaults.HasField("update_time")
    updated = api.UpdatePreferences(pb.UpdatePreferencesRequest(
        preferences=pb.UserPreferences(user_id=user, theme=pb.THEME_DARK, captions_enabled=True)), None)
    assert (updated.theme, updated.captions_enabled, updated.version) == (pb.THEME_DARK, True, 1)
    assert updated.HasField("update_time") and updated.notifications.email_enabled


def test_delete(api):
    created = api.CreateContent(pb.CreateContentRequest(content_item=video_item()), None)
    api.DeleteContent(pb.DeleteContentRequest(id=created.id, expected_version=1), None)
    with pytest.raises(NotFound):
        api.GetContent(pb.GetContentRequest(id=created.id), None)
