"""shared.ids: the 41/13/10-bit shard-encoded ID layout."""
from datetime import datetime, timezone

import pytest

from shared import ids


def test_round_trip():
    created_ms = ids.EPOCH_MS + 123_456_789
    decoded = ids.decode(ids.encode(created_ms, 2, 77))
    assert decoded == ids.DecodedId(created_ms=created_ms, shard_number=2, sequence=77)


def test_bit_layout():
    # 5 ms after the epoch, shard 3, sequence 9: time above bit 23, shard in bits 10..22, sequence in 0..9
    assert ids.encode(ids.EPOCH_MS + 5, 3, 9) == (5 << 23) | (3 << 10) | 9
    assert ids.SHARD_BITS + ids.SEQUENCE_BITS == 23
    assert ids.MAX_SHARD_NUMBER == 8191


def test_shard_number_extraction_at_the_edges():
    assert ids.decode(ids.encode(ids.EPOCH_MS + 1, ids.MAX_SHARD_NUMBER, 1023)).shard_number == 8191
    assert ids.decode(ids.encode(ids.EPOCH_MS + 1, 1, 0)).shard_number == 1
    assert ids.decode((1 << 23) | (42 << 10)).shard_number == 42


def test_sequence_wraps_into_its_ten_bits():
    decoded = ids.decode(ids.encode(ids.EPOCH_MS + 1, 1, 1024 + 5))
    assert (decoded.shard_number, decoded.sequence) == (1, 5)


def test_created_at_is_utc():
    decoded = ids.decode(ids.encode(ids.EPOCH_MS, 1, 1))
    assert decoded.created_at == datetime(2025, 1, 1, tzinfo=timezone.utc)


def test_epoch_matches_the_sql_generator():
    assert ids.EPOCH_MS == int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)


@pytest.mark.parametrize("bad", [0, -1, -(1 << 40), 1 << 63, (1 << 64) + 5])
def test_decode_rejects_non_positive_or_too_large(bad):
    with pytest.raises(ValueError, match="positive 64-bit"):
        ids.decode(bad)


def test_largest_id_is_accepted():
    assert ids.decode((1 << 63) - 1).shard_number == ids.MAX_SHARD_NUMBER


@pytest.mark.parametrize("shard", [-1, ids.MAX_SHARD_NUMBER + 1])
def test_encode_rejects_shard_out_of_range(shard):
    with pytest.raises(ValueError, match="shard number out of range"):
        ids.encode(ids.EPOCH_MS + 1, shard, 0)
