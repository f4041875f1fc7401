"""services.content.service: listing a course's content in lesson order, with keyset pagination."""
import pytest

from shared import pagination
from shared.errors import InvalidArgument
from tests.unit.content_fakes import APAC_COURSE, EU_COURSE, LESSONS, content, document, make, violations


@pytest.fixture
def service(shard_map):
    return make(shard_map)[0]


def fill(service) -> list[str]:
    """Items created out of order; returns their titles in the expected list order."""
    for lesson, position, title in [(LESSONS[1], 0, "b0"), (0, 2, "c2"), (LESSONS[0], 1, "a1"), (0, 0, "c0"),
                                    (LESSONS[0], 1, "a1-second"), (LESSONS[0], 0, "a0")]:
        service.create_content(content(lesson_id=lesson, position=position, title=title), "")
    service.create_content(content(course_id=APAC_COURSE, title="elsewhere"), "")
    assert LESSONS[0] < LESSONS[1]
    return ["c0", "c2", "a0", "a1", "a1-second", "b0"]


def titles(items) -> list[str]:
    return [i.content.title for i in items]


def test_lists_course_level_items_first_then_by_lesson_position_and_id(service):
    expected = fill(service)
    items, token = service.list_content(EU_COURSE, None, None, 0, "")
    assert (titles(items), token) == (expected, "")


def test_pages_follow_each_other_without_gaps_or_repeats(service):
    expected = fill(service)
    seen, token, pages = [], "", 0
    while True:
        items, token = service.list_content(EU_COURSE, None, None, 2, token)
        seen += titles(items)
        pages += 1
        if not token:
            break
    assert seen == expected and pages == 3


def test_filters_by_lesson_and_kind(service):
    fill(service)
    service.create_content(content(lesson_id=LESSONS[0], position=5, title="doc", kind="DOCUMENT", video=None,
                                    document=document()), "")
    lesson_items, _ = service.list_content(EU_COURSE, LESSONS[0], None, 0, "")
    assert titles(lesson_items) == ["a0", "a1", "a1-second", "doc"]
    course_level, _ = service.list_content(EU_COURSE, 0, None, 0, "")
    assert titles(course_level) == ["c0", "c2"]
    documents, _ = service.list_content(EU_COURSE, None, "DOCUMENT", 0, "")
    assert titles(documents) == ["doc"]


def test_a_course_without_content_lists_empty(service):
    assert service.list_content(APAC_COURSE + 1, None, None, 10, "") == ([], "")


def test_a_token_from_another_query_is_invalid_argument(service):
    fill(service)
    _, token = service.list_content(EU_COURSE, None, None, 2, "")
    with pytest.raises(InvalidArgument) as err:
        service.list_content(EU_COURSE, LESSONS[0], None, 2, token)
    assert violations(err) == ["page_token"]
    with pytest.raises(InvalidArgument) as err:
        service.list_content(EU_COURSE, None, None, 2, "garbage")
    assert violations(err) == ["page_token"]
    query = {"method": "ListContent", "course_id": EU_COURSE, "lesson_id": None, "kind": None}
    forged = pagination.encode_token({"l": 0, "p": 0, "o": "not-an-object-id"}, query)
    with pytest.raises(InvalidArgument) as err:
        service.list_content(EU_COURSE, None, None, 2, forged)
    assert violations(err) == ["page_token"]


@pytest.mark.parametrize("course_id, lesson_id, page_size, field", [
    (0, None, 0, "course_id"), (EU_COURSE, -1, 0, "lesson_id"), (EU_COURSE, None, -1, "page_size")])
def test_bad_list_requests_name_the_field(service, course_id, lesson_id, page_size, field):
    with pytest.raises(InvalidArgument) as err:
        service.list_content(course_id, lesson_id, None, page_size, "")
    assert violations(err) == [field]
