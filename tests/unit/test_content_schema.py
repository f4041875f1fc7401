"""services.content.schema: the MongoDB validators agree with the service rules and the store's documents."""
import bson

from services.content import rules, schema
from services.content.store import _content_fields
from tests.unit.content_fakes import content, document


def test_validators_are_valid_bson_and_use_the_rules_limits():
    for validator in schema.VALIDATORS.values():
        bson.encode(validator)
    props = schema.CONTENT_SCHEMA["$jsonSchema"]["properties"]
    assert props["title"]["maxLength"] == rules.MAX_TITLE
    assert set(props["document"]["properties"]["mime_type"]["enum"]) == rules.MIME_TYPES
    assert props["document"]["properties"]["size_bytes"]["maximum"] == rules.MAX_DOCUMENT_BYTES


def test_a_stored_document_has_every_required_field():
    required = schema.CONTENT_SCHEMA["$jsonSchema"]["required"]
    meta = {"region", "version", "created_at", "updated_at"}
    for item in (content(), content(kind="DOCUMENT", video=None, document=document())):
        fields = _content_fields(item)
        assert set(required) <= set(fields) | meta
        branch = "video" if item.kind == "VIDEO" else "document"
        assert set(schema.CONTENT_SCHEMA["$jsonSchema"]["properties"][branch]["required"]) == set(fields[branch])
        assert ("document" if branch == "video" else "video") not in fields
