"""shared.batches and the per-item status: the size limit, every bad item named by index before anything is
written, the split by shard in batch order, one fingerprint per batch, statuses that show no internals."""
from __future__ import annotations

import pytest
from google.rpc import code_pb2

from shared import batches
from shared.errors import AlreadyExists, InvalidArgument, ShardUnavailable, Violations
from shared.grpc_errors import item_status


def no_check(index: int, item: object, violations: Violations) -> None:
    return None


@pytest.mark.parametrize("size", [0, batches.MAX_ITEMS + 1])
def test_a_batch_holds_1_to_1000_items(size):
    with pytest.raises(InvalidArgument) as caught:
        batches.check_batch([1] * size, "", no_check)
    assert caught.value.violations[0].field == "requests"


def test_every_bad_item_is_named_by_its_index():
    def odd_is_bad(index: int, item: int, violations: Violations) -> None:
        if item % 2:
            violations.add(f"requests[{index}].value", "is odd")

    with pytest.raises(InvalidArgument) as caught:
        batches.check_batch([2, 3, 4, 5], "", odd_is_bad)
    assert [v.field for v in caught.value.violations] == ["requests[1].value", "requests[3].value"]
    with pytest.raises(InvalidArgument):
        batches.check_batch([2], "x" * 129, odd_is_bad)  # and the batch's request_id


def test_split_keeps_batch_indexes_and_order():
    parts = batches.split_by_shard([("eu", "a"), ("na", "b"), ("eu", "c")])
    assert parts == {"eu": [(0, "a"), (2, "c")], "na": [(1, "b")]}


def test_the_fingerprint_covers_every_item_and_its_order():
    one = batches.batch_fingerprint("M", [(1, 2), (3, 4)])
    assert one == batches.batch_fingerprint("M", [(1, 2), (3, 4)])
    assert one != batches.batch_fingerprint("M", [(3, 4), (1, 2)])
    assert one != batches.batch_fingerprint("N", [(1, 2), (3, 4)])


def test_item_statuses_carry_the_code_and_reason_of_the_single_call():
    unavailable = item_status(ShardUnavailable("eu", "primary"))
    assert (unavailable.code, unavailable.reason) == (code_pb2.UNAVAILABLE, "SHARD_UNAVAILABLE")
    assert item_status(AlreadyExists("user", "email")).code == code_pb2.ALREADY_EXISTS
    leaky = item_status(InvalidArgument("x", "bad"))
    leaky_message = InvalidArgument("x", 'violates check constraint "users_email_key"')
    assert leaky.code == code_pb2.INVALID_ARGUMENT
    assert "users_email_key" not in item_status(leaky_message).message
