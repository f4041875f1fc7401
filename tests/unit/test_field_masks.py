"""shared.field_masks: AIP-134 update masks."""
import pytest

from shared.errors import InvalidArgument
from shared.field_masks import resolve

ALLOWED = ("full_name", "email", "role", "profile", "password")


def test_explicit_paths():
    assert resolve(["email", "full_name"], ALLOWED) == {"email", "full_name"}


def test_empty_mask_means_the_populated_allowed_fields():
    assert resolve([], ALLOWED, populated=["full_name", "id", "profile"]) == {"full_name", "profile"}


def test_empty_mask_and_nothing_populated():
    with pytest.raises(InvalidArgument) as err:
        resolve([], ALLOWED, populated=["id"])
    assert (err.value.violations[0].field, err.value.violations[0].description) == (
        "update_mask", "names no field to update")


def test_unknown_path_is_named():
    with pytest.raises(InvalidArgument) as err:
        resolve(["full_name", "id", "created_at"], ALLOWED)
    violation = err.value.violations[0]
    assert violation.field == "update_mask"
    assert violation.description.startswith("unknown or immutable field(s): created_at, id; allowed: ")


def test_subfield_of_an_allowed_message():
    paths = ["profile.bio", "profile.headline"]
    assert resolve(paths, ALLOWED, messages=["profile"]) == {"profile.bio", "profile.headline"}


def test_subfield_of_a_plain_field_is_rejected():
    with pytest.raises(InvalidArgument, match="full_name.first"):
        resolve(["full_name.first"], ALLOWED, messages=["profile"])


def test_subfield_of_an_unknown_field_is_rejected():
    with pytest.raises(InvalidArgument, match="settings.theme"):
        resolve(["settings.theme"], ALLOWED)


def test_custom_field_name():
    with pytest.raises(InvalidArgument) as err:
        resolve(["nope"], ALLOWED, field="mask")
    assert err.value.violations[0].field == "mask"
