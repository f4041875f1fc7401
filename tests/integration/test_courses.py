"""Courses: placement on the instructor's shard, the rules for bad input, publish and archive, the
rating trigger, and the catalogue listed across every shard."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from elearning.common.v1 import common_pb2
from elearning.courses.v1 import courses_service_pb2 as pb
from elearning.users.v1 import users_service_pb2 as users_pb
from tests.integration.courses_client import category, course, course_message, instructor, outline, stub
from tests.integration.users_client import field_violations

SHARDS = ("na", "eu", "apac")


@pytest.fixture(scope="module")
def catalogue(gateway_channel):
    return {"category": category(gateway_channel), "asia": instructor(gateway_channel, "ASIA"),
            "africa": instructor(gateway_channel, "AFRICA"), "brazil": instructor(gateway_channel, "SOUTH_AMERICA")}


def course_counts(cluster) -> dict[str, tuple]:
    return {s: cluster.query(s, "primary", "SELECT (SELECT count(*) FROM courses), (SELECT count(*) FROM "
                                           "course_modules), (SELECT count(*) FROM course_lessons)")[0]
            for s in SHARDS}


def test_a_course_lives_on_its_instructors_shard_only(cluster, gateway_channel, catalogue):
    made = course(gateway_channel, catalogue["asia"].id, catalogue["category"].id)
    assert made.region == common_pb2.REGION_ASIA and made.state == pb.COURSE_STATE_DRAFT
    assert cluster.settings().shard_map.for_id(made.id).name == "apac"
    assert [len(m.lessons) for m in made.modules] == [3, 3] and made.duration_minutes == 10  # 546 s, rounded up
    for shard in SHARDS:
        expected = [(1,)] if shard == "apac" else [(0,)]
        assert cluster.query(shard, "primary", "SELECT count(*) FROM courses WHERE id = %s", (made.id,)) == expected
    assert cluster.query("apac", "primary", "SELECT count(*) FROM course_lessons l JOIN course_modules m "
                                            "ON m.id = l.module_id WHERE m.course_id = %s", (made.id,)) == [(6,)]
    assert stub(gateway_channel).GetCourse(pb.GetCourseRequest(id=made.id), timeout=5) == made


BAD = {
    "blank title": (dict(title="  "), "course.title"),
    "negative price": (dict(price=common_pb2.Money(currency_code="USD", amount="-1.00")), "course.price.amount"),
    "three decimals": (dict(price=common_pb2.Money(currency_code="USD", amount="9.999")), "course.price.amount"),
    "unknown currency": (dict(price=common_pb2.Money(currency_code="XYZ", amount="9.99")),
                         "course.price.currency_code"),
    "no level": (dict(level=pb.COURSE_LEVEL_UNSPECIFIED), "course.level"),
    "zero-length video": (dict(modules=[pb.Module(title="M", lessons=[
        pb.Lesson(title="L", kind=pb.LESSON_KIND_VIDEO)])]),
                          "course.modules[0].lessons[0].duration_seconds"),
    "blank module": (dict(modules=[pb.Module(title="")]), "course.modules[0].title"),
    "bad language": (dict(language="english!"), "course.language"),
    "malformed instructor": (dict(instructor_id=1), "course.instructor_id"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_courses_are_invalid_argument_and_write_nothing(cluster, gateway_channel, catalogue, case):
    overrides, field = dict(BAD[case][0]), BAD[case][1]
    instructor_id = overrides.pop("instructor_id", catalogue["africa"].id)
    message = course_message(instructor_id, catalogue["category"].id, **overrides)
    before = course_counts(cluster)
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).CreateCourse(pb.CreateCourseRequest(course=message), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(caught.value), field_violations(caught.value)
    assert course_counts(cluster) == before


def test_missing_references_are_failed_precondition(cluster, gateway_channel, catalogue):
    student = instructor(gateway_channel, "EUROPE", role=users_pb.USER_ROLE_STUDENT)
    ghost = cluster.settings().shard_map.by_name("eu").number
    from shared import ids
    cases = [course_message(catalogue["africa"].id, 999),  # no such category
             course_message(student.id, catalogue["category"].id),  # not an instructor
             course_message(ids.encode(ids.EPOCH_MS + 1, ghost, 1), catalogue["category"].id)]  # no such user
    before = course_counts(cluster)
    for message in cases:
        with pytest.raises(grpc.RpcError) as caught:
            stub(gateway_channel).CreateCourse(pb.CreateCourseRequest(course=message), timeout=10)
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION, caught.value.details()
    assert course_counts(cluster) == before


def test_create_course_is_idempotent(cluster, gateway_channel, catalogue):
    request = pb.CreateCourseRequest(course=course_message(catalogue["brazil"].id, catalogue["category"].id),
                                     request_id=str(uuid.uuid4()))
    first = stub(gateway_channel).CreateCourse(request, timeout=10)
    assert stub(gateway_channel).CreateCourse(request, timeout=10) == first
    request.course.title = "Something else"
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).CreateCourse(request, timeout=10)
    assert "request_id" in field_violations(caught.value)


def test_publish_archive_and_outline_rules(gateway_channel, catalogue):
    courses = stub(gateway_channel)
    empty = course(gateway_channel, catalogue["asia"].id, catalogue["category"].id, modules=[])
    with pytest.raises(grpc.RpcError) as caught:
        courses.PublishCourse(pb.PublishCourseRequest(id=empty.id), timeout=5)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    replaced = courses.UpdateCourse(pb.UpdateCourseRequest(course=pb.Course(id=empty.id, modules=outline(1, 2)),
                                                           update_mask={"paths": ["modules"]}), timeout=5)
    assert [len(m.lessons) for m in replaced.modules] == [2]
    published = courses.PublishCourse(pb.PublishCourseRequest(id=empty.id), timeout=5)
    assert published.state == pb.COURSE_STATE_PUBLISHED and published.HasField("publish_time")
    assert courses.PublishCourse(pb.PublishCourseRequest(id=empty.id), timeout=5).state == pb.COURSE_STATE_PUBLISHED
    with pytest.raises(grpc.RpcError) as caught:
        courses.UpdateCourse(pb.UpdateCourseRequest(course=pb.Course(id=empty.id, modules=outline(1, 1)),
                                                    update_mask={"paths": ["modules"]}), timeout=5)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    renamed = courses.UpdateCourse(pb.UpdateCourseRequest(
        course=pb.Course(id=empty.id, title="Renamed", state=pb.COURSE_STATE_ARCHIVED,
                         price=common_pb2.Money(currency_code="USD", amount="5")),
        update_mask={"paths": ["title", "state", "price"]}), timeout=5)
    assert (renamed.title, renamed.state, renamed.price.amount) == ("Renamed", pb.COURSE_STATE_ARCHIVED, "5.00")


def test_the_rating_trigger_follows_review_inserts_updates_and_deletes(cluster, gateway_channel, catalogue):
    made = course(gateway_channel, catalogue["africa"].id, catalogue["category"].id)
    stub(gateway_channel).PublishCourse(pb.PublishCourseRequest(id=made.id), timeout=5)

    def rating():
        return cluster.query("eu", "primary", "SELECT average_rating::float8, review_count FROM courses "
                                              "WHERE id = %s", (made.id,))[0]

    for student, stars in ((101, 5), (102, 4), (103, 2)):
        cluster.execute("eu", "INSERT INTO course_reviews (course_id, student_id, rating) VALUES (%s, %s, %s)",
                        (made.id, student, stars))
    assert rating() == (3.67, 3)
    cluster.execute("eu", "UPDATE course_reviews SET rating = 5 WHERE course_id = %s AND student_id = 103",
                    (made.id,))
    assert rating() == (4.67, 3)
    cluster.execute("eu", "DELETE FROM course_reviews WHERE course_id = %s AND student_id = 101", (made.id,))
    assert rating() == (4.5, 2)
    cluster.execute("eu", "DELETE FROM course_reviews WHERE course_id = %s", (made.id,))
    assert rating() == (0.0, 0)


def test_list_courses_pages_across_all_shards_with_no_gap_or_duplicate(cluster, gateway_channel, catalogue):
    courses = stub(gateway_channel)
    own = category(gateway_channel)
    teachers = [catalogue["asia"], catalogue["africa"], catalogue["brazil"]]
    before = {course(gateway_channel, teachers[i % 3].id, own.id, title=f"C{i}").id for i in range(9)}
    seen, token, pages = [], "", 0
    with ThreadPoolExecutor(max_workers=1) as writer:
        while True:
            page = courses.ListCourses(pb.ListCoursesRequest(category_id=own.id, page_size=2, page_token=token),
                                       timeout=5)
            # New courses keep arriving while the pages are read.
            writer.submit(course, gateway_channel, teachers[pages % 3].id, own.id, title=f"new {pages}")
            seen += [c.id for c in page.courses]
            assert all(not c.modules for c in page.courses)
            token, pages = page.next_page_token, pages + 1
            if not token:
                break
    assert len(seen) == len(set(seen)), "a course was listed twice"
    assert before <= set(seen), "a course that existed before the listing was skipped"
    shards = {cluster.settings().shard_map.for_id(i).name for i in seen}
    assert shards == set(SHARDS)
    keys = [(c.create_time.ToDatetime(), c.id) for c in courses.ListCourses(
        pb.ListCoursesRequest(category_id=own.id, page_size=1000), timeout=5).courses]
    assert keys == sorted(keys)


def test_list_courses_filters_by_region_instructor_and_state(gateway_channel, catalogue):
    courses = stub(gateway_channel)
    own = category(gateway_channel)
    asia = course(gateway_channel, catalogue["asia"].id, own.id)
    course(gateway_channel, catalogue["africa"].id, own.id)
    by_region = courses.ListCourses(pb.ListCoursesRequest(category_id=own.id, region=common_pb2.REGION_ASIA), timeout=5)
    assert [c.id for c in by_region.courses] == [asia.id]
    by_teacher = courses.ListCourses(pb.ListCoursesRequest(category_id=own.id, instructor_id=catalogue["asia"].id),
                                     timeout=5)
    assert [c.id for c in by_teacher.courses] == [asia.id]
    published = courses.ListCourses(pb.ListCoursesRequest(category_id=own.id, state=pb.COURSE_STATE_PUBLISHED),
                                    timeout=5)
    assert list(published.courses) == []
