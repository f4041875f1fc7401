"""shared.ids / shared.sharding: string IDs of MongoDB documents that name their home shard."""
import pytest

from shared import ids
from shared.errors import InvalidArgument

OID = "65f0c1a2b3c4d5e6f7a8b9c0"


def test_round_trip_and_lookup(shard_map):
    doc_id = ids.document_id(3, OID)
    assert doc_id == f"3-{OID}" and ids.decode_document_id(doc_id) == (3, OID)
    shard, object_id = shard_map.for_document_id(doc_id)
    assert (shard.name, object_id) == ("apac", OID)


def test_upper_case_and_surrounding_spaces_are_accepted():
    assert ids.decode_document_id(f" 2-{OID.upper()} ") == (2, OID)


@pytest.mark.parametrize("bad", ["", OID, f"0-{OID}", f"03-{OID}", f"3_{OID}", f"3-{OID[:-1]}", f"3-{OID}0",
                                 f"3-{OID[:-1]}g", f"-3-{OID}", f"12345-{OID}"])
def test_malformed_ids_are_rejected(bad):
    with pytest.raises(ValueError):
        ids.decode_document_id(bad)


def test_the_shard_map_names_the_field(shard_map):
    with pytest.raises(InvalidArgument) as err:
        shard_map.for_document_id("nope", field="content_item.id")
    assert err.value.violations[0].field == "content_item.id"
    with pytest.raises(InvalidArgument, match="names no known shard"):
        shard_map.for_document_id(f"42-{OID}")


@pytest.mark.parametrize("number", [0, ids.MAX_SHARD_NUMBER + 1])
def test_minting_an_id_for_an_impossible_shard_fails(number):
    with pytest.raises(ValueError):
        ids.document_id(number, OID)
