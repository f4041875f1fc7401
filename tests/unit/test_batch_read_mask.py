"""BatchRecordLessonProgress's read_mask (AIP-157): which result fields it returns, hence how much each shard
reads back; an unknown path is INVALID_ARGUMENT naming read_mask."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from elearning.enrollments.v1 import enrollments_service_pb2 as pb
from services.enrollments.api import fill_batch_result, returned_fields
from services.enrollments.domain import Enrollment, LessonProgress, ProgressOutcome, Returned
from shared.errors import InvalidArgument


@pytest.mark.parametrize("paths, returned", [
    ([], Returned.ALL),
    (["status"], Returned.STATUS),
    (["lesson_progress"], Returned.PROGRESS),
    (["status", "lesson_progress"], Returned.PROGRESS),
    (["enrollment"], Returned.ALL),
    (["status", "lesson_progress", "enrollment"], Returned.ALL),
])
def test_the_mask_decides_what_the_shards_return(paths, returned):
    assert returned_fields(paths)[0] is returned


@pytest.mark.parametrize("paths", [["enrollments"], ["status", "enrollment.id"], [""]])
def test_an_unknown_path_names_read_mask(paths):
    with pytest.raises(InvalidArgument) as caught:
        returned_fields(paths)
    assert [v.field for v in caught.value.violations] == ["read_mask"]


NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_a_result_holds_only_the_masked_fields():
    enrollment = Enrollment(7, 3, 5, "EUROPE", "ACTIVE", "UNPAID", 25.0, "A course", Decimal("9.99"), "EUR", NOW,
                            None, None, "", NOW)
    outcome = ProgressOutcome(0, LessonProgress(7, 11, "IN_PROGRESS", 30, 30, NOW, None), enrollment)
    for paths, present in ((["status"], set()), (["lesson_progress"], {"lesson_progress"}),
                           (["enrollment"], {"enrollment"}), ([], {"lesson_progress", "enrollment"})):
        result = pb.BatchRecordLessonProgressResult()
        fill_batch_result(result, outcome, {}, returned_fields(paths)[1])
        assert {f for f in ("lesson_progress", "enrollment") if result.HasField(f)} == present
        assert result.HasField("status") and result.status.code == 0
