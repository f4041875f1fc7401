"""The seed plan and sample data, offline: the default counts of issue 8, spread over regions, distinct pairs, and
records and request IDs that depend only on the seed and the item."""
from __future__ import annotations

import collections
import re

import pytest

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from launcher import seed_cli
from launcher import seed_plan as plan
from launcher.cli import build_parser
from launcher.seed_data import SampleData
from launcher.seed_plan import Counts, CourseKey, SeedError, UserKey
from launcher.seed_report import Tally, render
from shared.sharding import REGIONS


def test_the_default_counts_are_those_of_the_issue_and_of_the_command():
    counts = Counts()
    assert (counts.students, counts.instructors, counts.categories, counts.courses, counts.enrollments,
            counts.payments) == (100, 20, 8, 50, 200, 150)
    assert counts.preference_users == 120
    assert seed_cli.counts_from(build_parser().parse_args(["seed"])) == counts
    assert seed_cli.counts_from(build_parser().parse_args(["seed", "--courses", "7"])).courses == 7


@pytest.mark.parametrize("changes, words", [
    ({"enrollments": 51, "students": 5, "courses": 10}, "51 enrollments need"),
    ({"payments": 201}, "201 payments need"),
    ({"instructors": 0}, "need at least one instructor"),
    ({"students": -1}, "must not be negative: students"),
    ({"password_users": 101}, "exceeds --students"),
])
def test_impossible_counts_are_refused_with_the_reason(changes, words):
    with pytest.raises(SeedError, match=words):
        Counts(**changes).check()


def test_users_are_spread_evenly_over_the_six_regions():
    per_region = collections.Counter(key.region for key in plan.users(Counts()) if key.role == "student")
    assert set(per_region) == set(REGIONS) and max(per_region.values()) - min(per_region.values()) <= 1


def test_enrollments_are_distinct_pairs_and_payments_a_subset_of_them():
    counts = Counts()
    courses = plan.courses(1, counts)
    pairs = plan.enrollments(1, counts, courses)
    assert len(pairs) == 200 and len({(p.student, p.course.index) for p in pairs}) == 200
    assert all(0 <= p.student < 100 for p in pairs)
    paid = plan.paid(1, counts)
    assert len(paid) == 150 and paid <= set(range(200))
    assert {c.instructor for c in courses} <= set(range(20)) and {c.category for c in courses} <= set(range(8))


def test_the_plan_depends_on_the_seed_only():
    counts = Counts()
    assert plan.enrollments(5, counts, plan.courses(5, counts)) == plan.enrollments(5, counts, plan.courses(5, counts))
    assert plan.courses(5, counts) != plan.courses(6, counts)


def test_request_ids_name_the_item_and_what_it_refers_to_and_fit_the_limit():
    key = plan.EnrollmentKey(99, CourseKey(49, 19, 7))
    rid = plan.request_id(999_999_999_999, f"pay-{key.name}")
    assert rid == "seed-999999999999-pay-student-99-course-49-by-19-in-7" and len(rid) <= 128


def test_a_record_depends_on_its_key_not_on_what_was_made_before():
    first, second = SampleData(3), SampleData(3)
    student = UserKey("student", 4)
    second.user(UserKey("instructor", 2))
    assert first.user(student) == second.user(student)
    assert SampleData(4).user(student).email != first.user(student).email


def test_users_are_realistic_and_their_emails_unique_and_tied_to_the_seed():
    data = SampleData(77)
    users = [data.user(key) for key in plan.users(Counts())]
    emails = [u.email for u in users]
    assert len(set(emails)) == 120
    assert all(re.fullmatch(r"[a-z0-9.]+\.s77\.(student|instructor)-\d+@example\.(com|org|net)", e) for e in emails)
    assert all(u.full_name.strip() and u.profile.time_zone and u.profile.language for u in users)


def test_courses_have_three_to_eight_modules_of_three_to_seven_lessons():
    data = SampleData(9)
    for i in range(30):
        course = data.course(CourseKey(i, 0, i % 8), UserKey("instructor", i), 1, 2)
        assert 3 <= len(course.modules) <= 8 and all(3 <= len(m.lessons) <= 7 for m in course.modules)
        assert re.fullmatch(r"\d+\.\d\d", course.price.amount) and float(course.price.amount) > 0
        assert all(lesson.duration_seconds > 0 for m in course.modules for lesson in m.lessons)


def test_content_matches_its_lesson_and_tokens_are_never_card_numbers():
    data = SampleData(2)
    video = courses_pb.Lesson(id=11, title="Intro", kind=courses_pb.LESSON_KIND_VIDEO, duration_seconds=300)
    article = courses_pb.Lesson(id=12, title="Reading", kind=courses_pb.LESSON_KIND_ARTICLE, duration_seconds=300)
    key = CourseKey(0, 0, 0)
    assert data.content(key, 5, video, "m0-l0", 0).WhichOneof("details") == "video"
    assert data.content(key, 5, article, "m0-l1", 0).WhichOneof("details") == "document"
    for i in range(20):
        _method, token = data.payment_method(UserKey("student", i), 1, "Ana")
        assert token.startswith("tok_seed_") and not token.isdigit()


def test_progress_never_exceeds_the_lessons():
    key = plan.EnrollmentKey(1, CourseKey(2, 3, 4))
    for seed in range(200):
        completed, started = plan.progress(seed, key, 10)
        assert 0 <= completed <= 10 and not (started and completed == 10)


def test_the_table_has_a_row_per_kind_and_a_total_column():
    tally = Tally(("na", "eu"))
    tally.add("na", "users", 3)
    tally.add("eu", "users", 2)
    tally.add_everywhere("categories", 4)
    lines = render(tally.per_shard()).splitlines()
    assert lines[0].split() == ["made", "na", "eu", "total"]
    assert "users 3 2 5" in [" ".join(line.split()) for line in lines]
    assert "categories 4 4 8" in [" ".join(line.split()) for line in lines]
