"""services.content.service: field-mask updates with optimistic concurrency, and deletes."""
import pytest

from services.content.domain import Content, Video
from shared.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from tests.unit.content_fakes import EU_COURSE, LESSONS, content, document, make, shard_id, video, violations


@pytest.fixture
def parts(shard_map):
    return make(shard_map)


@pytest.fixture
def service(parts):
    return parts[0]


def sent(**fields) -> Content:
    """What the API layer passes for an update: every unsent field at its proto default."""
    return Content(**{"course_id": 0, "lesson_id": 0, "kind": "CONTENT_KIND_UNSPECIFIED", "title": "", **fields})


def test_update_changes_only_the_masked_fields_and_bumps_the_version(service):
    item = service.create_content(content(title="Old", description="Keep me", tags=("x",)), "")
    updated = service.update_content(item.id, 1, ["title", "position"], sent(title=" New ", position=4,
                                                                             description="ignored"))
    assert (updated.content.title, updated.content.position, updated.content.description) == ("New", 4, "Keep me")
    assert updated.content.tags == ("x",) and updated.version == 2
    assert updated.created_at == item.created_at and updated.updated_at > item.updated_at
    assert service.get_content(item.id) == updated


def test_a_stale_version_is_aborted_and_changes_nothing(service):
    item = service.create_content(content(), "")
    service.update_content(item.id, 1, ["title"], sent(title="First writer"))
    with pytest.raises(Aborted) as err:
        service.update_content(item.id, 1, ["title"], sent(title="Second writer"))
    assert err.value.reason == "STALE_VERSION" and err.value.metadata["current_version"] == "2"
    assert service.get_content(item.id).content.title == "First writer"


def test_a_write_that_loses_the_race_after_the_read_is_aborted(service, parts):
    store = parts[1]
    item = service.create_content(content(), "")
    real_get = store.get

    def get_then_someone_writes(shard, object_id):
        current = real_get(shard, object_id)
        store.replace(shard, current, current.content)  # a concurrent update lands in between
        return current

    store.get = get_then_someone_writes
    with pytest.raises(Aborted):
        service.update_content(item.id, 1, ["title"], sent(title="Too late"))


def test_video_sub_fields_merge_into_the_stored_video(service):
    item = service.create_content(content(video=video(duration_seconds=60, transcript="old")), "")
    updated = service.update_content(item.id, 1, ["video.duration_seconds"], sent(video=Video(duration_seconds=90)))
    assert updated.content.video == video(duration_seconds=90, transcript="old")


def test_the_whole_video_can_be_replaced(service):
    item = service.create_content(content(), "")
    replacement = video(duration_seconds=30, renditions=(), transcript="")
    assert service.update_content(item.id, 1, ["video"], sent(video=replacement)).content.video == replacement


def test_an_update_that_names_no_field_is_invalid(service):
    item = service.create_content(content(), "")
    with pytest.raises(InvalidArgument) as err:
        service.update_content(item.id, 1, [], sent())
    assert violations(err) == ["update_mask"]


@pytest.mark.parametrize("mask, fields, field", [
    (["course_id"], {}, "update_mask"),
    (["kind"], {}, "update_mask"),
    (["document"], {"document": document()}, "update_mask"),
    (["video.codec"], {}, "update_mask"),
    (["title"], {"title": " "}, "content_item.title"),
    (["video.duration_seconds"], {"video": Video(duration_seconds=0)}, "content_item.video.duration_seconds"),
    (["video"], {}, "content_item.video"),
    (["tags"], {"tags": ("",)}, "content_item.tags[0]"),
])
def test_bad_updates_name_the_field_and_change_nothing(service, mask, fields, field):
    item = service.create_content(content(), "")
    with pytest.raises(InvalidArgument) as err:
        service.update_content(item.id, 1, mask, sent(**fields))
    assert field in violations(err)
    assert service.get_content(item.id) == item


def test_a_document_updates_its_own_branch(service):
    item = service.create_content(content(kind="DOCUMENT", video=None, document=document()), "")
    updated = service.update_content(item.id, 1, ["document.size_bytes", "document.mime_type"],
                                     sent(document=document(size_bytes=99, mime_type="text/markdown")))
    assert updated.content.document == document(size_bytes=99, mime_type="text/markdown")
    with pytest.raises(InvalidArgument):
        service.update_content(item.id, 2, ["video"], sent(video=video()))


def test_moving_to_a_lesson_checks_that_the_lesson_is_the_courses(service, parts):
    courses = parts[2]
    item = service.create_content(content(), "")
    assert service.update_content(item.id, 1, ["lesson_id"], sent(lesson_id=LESSONS[0])).content.lesson_id == \
        LESSONS[0]
    with pytest.raises(FailedPrecondition):
        service.update_content(item.id, 2, ["lesson_id"], sent(lesson_id=shard_id(2, 500)))
    assert courses.calls == [EU_COURSE, EU_COURSE, EU_COURSE]


def test_update_without_a_version_is_invalid_and_of_a_missing_item_not_found(service):
    item = service.create_content(content(), "")
    with pytest.raises(InvalidArgument) as err:
        service.update_content(item.id, 0, ["title"], sent(title="x"))
    assert violations(err) == ["content_item.version"]
    with pytest.raises(NotFound):
        service.update_content("2-0000000000000000000000ff", 1, ["title"], sent(title="x"))
    with pytest.raises(InvalidArgument) as err:
        service.update_content("nope", 1, ["title"], sent(title="x"))
    assert violations(err) == ["content_item.id"]


def test_delete_with_and_without_a_version(service):
    first = service.create_content(content(), "")
    second = service.create_content(content(), "")
    with pytest.raises(Aborted):
        service.delete_content(first.id, 7)
    service.delete_content(first.id, 1)
    service.delete_content(second.id, 0)
    for gone in (first.id, second.id):
        with pytest.raises(NotFound):
            service.get_content(gone)
        with pytest.raises(NotFound):
            service.delete_content(gone, 0)
    with pytest.raises(InvalidArgument):
        service.delete_content(first.id, -1)


def test_a_request_id_whose_item_was_deleted_is_not_recreated(service):
    item = service.create_content(content(), "req-del")
    service.delete_content(item.id, 0)
    with pytest.raises(NotFound):
        service.create_content(content(), "req-del")
