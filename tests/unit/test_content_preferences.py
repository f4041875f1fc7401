"""services.content.service: preferences in the user's shard, defaults when none are stored, masked updates."""
import pytest

from services.content.domain import Notifications, Preferences
from shared.errors import Aborted, InvalidArgument, NotFound
from tests.unit.content_fakes import make, shard_id, violations

USER = shard_id(3, 42)


@pytest.fixture
def parts(shard_map):
    return make(shard_map)


@pytest.fixture
def service(parts):
    return parts[0]


def sent(**fields) -> Preferences:
    """What the API layer passes: every unsent field at its proto default (not the domain default)."""
    base = dict(user_id=USER, playback_speed=0.0, theme="THEME_UNSPECIFIED",
                notifications=Notifications(False, False, False, False))
    return Preferences(**{**base, **fields})


def test_a_user_without_preferences_reads_the_defaults(service, parts):
    prefs = service.get_preferences(USER)
    assert prefs == Preferences(USER)
    assert (prefs.playback_speed, prefs.captions_enabled, prefs.theme, prefs.version, prefs.updated_at) == (
        1.0, False, "SYSTEM", 0, None)
    assert prefs.notifications == Notifications(email_enabled=True, push_enabled=False, weekly_digest=True,
                                                course_updates=True)
    assert all(rows == {} for rows in parts[1].preferences.values())


def test_the_first_update_stores_defaults_plus_the_masked_fields_in_the_users_shard(service, parts):
    store = parts[1]
    saved = service.update_preferences(USER, 0, ["playback_speed", "notifications.push_enabled"],
                                       sent(playback_speed=1.5, notifications=Notifications(push_enabled=True)))
    assert saved == Preferences(USER, playback_speed=1.5, version=1, updated_at=saved.updated_at,
                                notifications=Notifications(push_enabled=True))
    assert list(store.preferences["apac"]) == [USER] and store.preferences["eu"] == {}
    assert service.get_preferences(USER) == saved


def test_whole_notifications_and_theme(service):
    saved = service.update_preferences(USER, 0, ["notifications", "theme", "language", "caption_language"],
                                       sent(theme="DARK", language="pt-BR", caption_language="en",
                                            notifications=Notifications(False, True, False, True)))
    assert (saved.theme, saved.language, saved.caption_language) == ("DARK", "pt-BR", "en")
    assert saved.notifications == Notifications(False, True, False, True)
    assert service.update_preferences(USER, 1, ["theme"], sent()).theme == "SYSTEM"  # unspecified → SYSTEM


def test_a_stale_version_is_aborted_and_zero_skips_the_check(service):
    service.update_preferences(USER, 0, ["captions_enabled"], sent(captions_enabled=True))
    service.update_preferences(USER, 1, ["language"], sent(language="fr"))
    with pytest.raises(Aborted) as err:
        service.update_preferences(USER, 1, ["language"], sent(language="de"))
    assert err.value.metadata["current_version"] == "2"
    with pytest.raises(Aborted):
        service.update_preferences(shard_id(3, 43), 1, ["language"], sent(user_id=shard_id(3, 43), language="de"))
    assert service.update_preferences(USER, 0, ["language"], sent(language="de")).version == 3


def test_without_a_version_an_update_merges_into_what_another_writer_stored(service, parts):
    store = parts[1]
    store.save_preferences("apac", Preferences(USER, language="it"), 0)  # another writer, just before
    saved = service.update_preferences(USER, 0, ["theme"], sent(theme="LIGHT"))
    assert (saved.language, saved.theme, saved.version) == ("it", "LIGHT", 2)


def test_preferences_of_a_user_that_does_not_exist_are_not_found(service, parts):
    service.users.missing.add(USER)
    with pytest.raises(NotFound):
        service.update_preferences(USER, 0, ["language"], sent(language="en"))
    assert all(rows == {} for rows in parts[1].preferences.values())


@pytest.mark.parametrize("mask, fields, field", [
    (["playback_speed"], {"playback_speed": 0.0}, "preferences.playback_speed"),
    (["playback_speed"], {"playback_speed": 3.5}, "preferences.playback_speed"),
    (["playback_speed"], {"playback_speed": float("nan")}, "preferences.playback_speed"),
    (["language"], {"language": "not a tag"}, "preferences.language"),
    (["caption_language"], {"caption_language": "e"}, "preferences.caption_language"),
    (["notifications.sms_enabled"], {}, "update_mask"),
    (["user_id"], {}, "update_mask"),
    ([], {}, "update_mask"),
])
def test_bad_updates_name_the_field_and_store_nothing(service, parts, mask, fields, field):
    with pytest.raises(InvalidArgument) as err:
        service.update_preferences(USER, 0, mask, sent(**fields))
    assert violations(err) == [field]
    assert all(rows == {} for rows in parts[1].preferences.values())


@pytest.mark.parametrize("user_id", [0, -1, shard_id(9)])
def test_a_malformed_user_id_is_invalid_argument(service, user_id):
    with pytest.raises(InvalidArgument) as err:
        service.get_preferences(user_id)
    assert violations(err) == ["user_id"]
    with pytest.raises(InvalidArgument) as err:
        service.update_preferences(user_id, 0, ["language"], sent(user_id=user_id))
    assert violations(err) == ["preferences.user_id"]
