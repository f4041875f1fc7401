"""services.content.service: creating and reading content (validation, placement, idempotency, the course check)."""
import pytest

from services.content import rules
from services.content.domain import Rendition
from shared import ids
from shared.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from tests.unit.content_fakes import (
    APAC_COURSE,
    EU_COURSE,
    LESSONS,
    content,
    document,
    make,
    shard_id,
    video,
    violations,
)


@pytest.fixture
def parts(shard_map):
    return make(shard_map)


@pytest.fixture
def service(parts):
    return parts[0]


@pytest.fixture
def store(parts):
    return parts[1]


@pytest.fixture
def courses(parts):
    return parts[2]


def test_create_places_the_item_in_the_courses_shard_with_its_region(service, store):
    item = service.create_content(content(course_id=APAC_COURSE), "")
    number, object_id = ids.decode_document_id(item.id)
    assert (number, item.region, item.version) == (3, "ASIA", 1)
    assert list(store.items["apac"]) == [object_id]
    assert store.items["na"] == store.items["eu"] == {}
    assert service.get_content(item.id) == item


def test_create_normalises(service):
    item = service.create_content(content(title="  Intro  ", tags=(" Python", "python", "SQL "),
                                          kind="DOCUMENT", video=None,
                                          document=document(mime_type=" Application/PDF ")), "")
    assert (item.content.title, item.content.tags, item.content.document.mime_type) == (
        "Intro", ("python", "sql"), "application/pdf")


BAD = {
    "blank title": (dict(title="   "), "content_item.title", "must not be blank"),
    "long title": (dict(title="x" * 201), "content_item.title", "at most 200"),
    "long description": (dict(description="x" * 5001), "content_item.description", "at most 5000"),
    "blank tag": (dict(tags=("ok", " ")), "content_item.tags[1]", "1 to 50"),
    "too many tags": (dict(tags=tuple(f"t{i}" for i in range(21))), "content_item.tags", "at most 20"),
    "negative position": (dict(position=-1), "content_item.position", "at least 0"),
    "negative lesson": (dict(lesson_id=-5), "content_item.lesson_id", "lesson ID"),
    "no kind": (dict(kind="CONTENT_KIND_UNSPECIFIED"), "content_item.kind", "is required"),
    "video without details": (dict(video=None), "content_item.video", "is required for a VIDEO"),
    "video with document": (dict(document=document()), "content_item.document", "must not be set"),
    "zero duration": (dict(video=video(duration_seconds=0)), "content_item.video.duration_seconds",
                      "greater than 0"),
    "negative duration": (dict(video=video(duration_seconds=-3)), "content_item.video.duration_seconds",
                          "greater than 0"),
    "endless video": (dict(video=video(duration_seconds=rules.MAX_DURATION_S + 1)),
                      "content_item.video.duration_seconds", "at most"),
    "no storage url": (dict(video=video(storage_url="")), "content_item.video.storage_url", "is required"),
    "ftp storage url": (dict(video=video(storage_url="ftp://files.example.com/a.mp4")),
                        "content_item.video.storage_url", "http(s) URL"),
    "url without host": (dict(video=video(storage_url="https:///a.mp4")), "content_item.video.storage_url",
                         "with a host"),
    "url with spaces": (dict(video=video(storage_url="https://ex ample.com/a")), "content_item.video.storage_url",
                        "spaces"),
    "url with bad port": (dict(video=video(storage_url="https://example.com:99999/a")),
                          "content_item.video.storage_url", "not a valid URL"),
    "bad rendition url": (dict(video=video(renditions=(Rendition("1080p", 5000, "cdn/1.m3u8"),))),
                          "content_item.video.renditions[0].url", "http(s) URL"),
    "blank resolution": (dict(video=video(renditions=(Rendition(" ", 5000, "https://cdn.example.com/a"),))),
                         "content_item.video.renditions[0].resolution", "not blank"),
    "zero bitrate": (dict(video=video(renditions=(Rendition("720p", 0, "https://cdn.example.com/a"),))),
                     "content_item.video.renditions[0].bitrate_kbps", "greater than 0"),
    "too many renditions": (dict(video=video(renditions=(Rendition("720p", 1, "https://cdn.example.com/a"),) * 21)),
                            "content_item.video.renditions", "at most 20"),
}
DOCUMENT_BAD = {
    "unknown mime type": (dict(mime_type="application/x-msdownload"), "content_item.document.mime_type",
                          "unknown or unsupported MIME type"),
    "no mime type": (dict(mime_type=""), "content_item.document.mime_type", "is required"),
    "zero size": (dict(size_bytes=0), "content_item.document.size_bytes", "greater than 0"),
    "size over the limit": (dict(size_bytes=rules.MAX_DOCUMENT_BYTES + 1), "content_item.document.size_bytes",
                            "at most"),
    "negative pages": (dict(page_count=-1), "content_item.document.page_count", "at least 0"),
    "malformed url": (dict(url="not a url"), "content_item.document.url", "spaces"),
    "javascript url": (dict(url="javascript:alert(1)"), "content_item.document.url", "http(s) URL"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_create_rejects_bad_video_items(service, store, courses, case):
    overrides, field, fragment = BAD[case]
    with pytest.raises(InvalidArgument) as err:
        service.create_content(content(**overrides), "")
    assert violations(err) == [field]
    assert fragment in err.value.violations[0].description
    assert all(rows == {} for rows in store.items.values()) and courses.calls == []


@pytest.mark.parametrize("case", sorted(DOCUMENT_BAD))
def test_create_rejects_bad_documents(service, store, case):
    overrides, field, fragment = DOCUMENT_BAD[case]
    with pytest.raises(InvalidArgument) as err:
        service.create_content(content(kind="DOCUMENT", video=None, document=document(**overrides)), "")
    assert violations(err) == [field]
    assert fragment in err.value.violations[0].description
    assert all(rows == {} for rows in store.items.values())


def test_every_bad_field_is_reported_at_once(service):
    with pytest.raises(InvalidArgument) as err:
        service.create_content(content(title="", position=-1, course_id=0, video=video(duration_seconds=0)), "")
    assert set(violations(err)) == {"content_item.title", "content_item.position", "content_item.course_id",
                                    "content_item.video.duration_seconds"}


@pytest.mark.parametrize("course_id, fragment", [(0, "is required"), (-4, "positive 64-bit ID"),
                                                 (shard_id(9), "names no known shard")])
def test_a_malformed_course_id_is_invalid_argument(service, course_id, fragment):
    with pytest.raises(InvalidArgument) as err:
        service.create_content(content(course_id=course_id), "")
    assert violations(err) == ["content_item.course_id"] and fragment in err.value.message


def test_a_course_that_does_not_exist_is_failed_precondition(service, store):
    with pytest.raises(FailedPrecondition) as err:
        service.create_content(content(course_id=shard_id(1, 99)), "")
    assert err.value.reason == "COURSE_NOT_FOUND"
    assert all(rows == {} for rows in store.items.values())


def test_a_lesson_of_another_course_is_failed_precondition(service):
    assert service.create_content(content(lesson_id=LESSONS[1]), "").content.lesson_id == LESSONS[1]
    with pytest.raises(FailedPrecondition) as err:
        service.create_content(content(lesson_id=shard_id(2, 77)), "")
    assert err.value.reason == "LESSON_NOT_IN_COURSE"


def test_an_unreachable_courses_service_is_unavailable(service, courses, store):
    courses.error = Unavailable("cannot check course: the courses service answered UNAVAILABLE")
    with pytest.raises(Unavailable):
        service.create_content(content(), "")
    assert store.items["eu"] == {}


def test_same_request_id_and_parameters_give_the_same_item(service, store):
    first = service.create_content(content(tags=("a",)), "req-1")
    again = service.create_content(content(tags=("A", "a")), "req-1")  # the same after normalisation
    assert again == first and len(store.items["eu"]) == 1


def test_a_reused_request_id_with_other_parameters_is_invalid_argument(service, store):
    service.create_content(content(), "req-2")
    with pytest.raises(InvalidArgument) as err:
        service.create_content(content(title="Other"), "req-2")
    assert violations(err) == ["request_id"] and err.value.reason == "REQUEST_ID_REUSED"
    assert len(store.items["eu"]) == 1


def test_a_too_long_request_id_is_invalid_argument(service):
    with pytest.raises(InvalidArgument) as err:
        service.create_content(content(), "r" * 129)
    assert violations(err) == ["request_id"]


@pytest.mark.parametrize("bad_id", ["", "65f0c1a2b3c4d5e6f7a8b9c0", "3-65f0c1a2", "3-zzf0c1a2b3c4d5e6f7a8b9c0",
                                    "03-65f0c1a2b3c4d5e6f7a8b9c0", "9-65f0c1a2b3c4d5e6f7a8b9c0"])
def test_get_with_a_malformed_id_is_invalid_argument(service, bad_id):
    with pytest.raises(InvalidArgument) as err:
        service.get_content(bad_id)
    assert violations(err) == ["id"]


def test_get_of_a_missing_item_is_not_found(service):
    with pytest.raises(NotFound):
        service.get_content("2-65f0c1a2b3c4d5e6f7a8b9c0")


def test_create_asks_the_course_directory_once(service, courses):
    service.create_content(content(course_id=EU_COURSE), "")
    assert courses.calls == [EU_COURSE]
