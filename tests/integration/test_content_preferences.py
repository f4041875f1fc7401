"""Preferences over gRPC against the real local MongoDB: defaults, masked updates, versions, the user's shard."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from google.protobuf import field_mask_pb2

from elearning.content.v1 import content_service_pb2 as pb
from elearning.users.v1 import users_service_pb2 as users_pb
from tests.integration.content_client import stub
from tests.integration.users_client import error_info, field_violations, new_user
from tests.integration.users_client import stub as users_stub

DEFAULTS = dict(playback_speed=1.0, theme=pb.THEME_SYSTEM, notifications=pb.NotificationSettings(
    email_enabled=True, push_enabled=False, weekly_digest=True, course_updates=True))


def a_user(gateway_channel, region: str) -> int:
    return users_stub(gateway_channel).CreateUser(users_pb.CreateUserRequest(user=new_user(region)), timeout=10).id


def update(channel, prefs: pb.UserPreferences, *paths: str) -> pb.UserPreferences:
    return stub(channel).UpdatePreferences(pb.UpdatePreferencesRequest(
        preferences=prefs, update_mask=field_mask_pb2.FieldMask(paths=list(paths))), timeout=5)


def test_a_user_without_preferences_reads_the_defaults_and_nothing_is_stored(gateway_channel, content_channel,
                                                                             mongo):
    user_id = a_user(gateway_channel, "AFRICA")
    prefs = stub(content_channel).GetPreferences(pb.GetPreferencesRequest(user_id=user_id), timeout=5)
    assert prefs == pb.UserPreferences(user_id=user_id, version=0, **DEFAULTS)
    assert all(db.user_preferences.find_one({"_id": user_id}) is None for db in mongo.values())


def test_updates_are_stored_in_the_users_shard_and_merge_with_the_defaults(gateway_channel, content_channel, mongo):
    user_id = a_user(gateway_channel, "OCEANIA")
    first = update(content_channel, pb.UserPreferences(
        user_id=user_id, playback_speed=1.75, notifications=pb.NotificationSettings(push_enabled=True)),
        "playback_speed", "notifications.push_enabled")
    assert (first.version, first.playback_speed, first.theme) == (1, 1.75, pb.THEME_SYSTEM)
    assert first.notifications == pb.NotificationSettings(email_enabled=True, push_enabled=True, weekly_digest=True,
                                                          course_updates=True)
    assert first.HasField("update_time")
    stored = mongo["apac"].user_preferences.find_one({"_id": user_id})
    assert (stored["playback_speed"], stored["version"], stored["notifications"]["push_enabled"]) == (1.75, 1, True)
    assert mongo["na"].user_preferences.find_one({"_id": user_id}) is None
    assert mongo["eu"].user_preferences.find_one({"_id": user_id}) is None
    second = update(content_channel, pb.UserPreferences(user_id=user_id, version=1, theme=pb.THEME_DARK,
                                                        captions_enabled=True, caption_language="pt-BR"),
                    "theme", "captions_enabled", "caption_language")
    assert (second.version, second.theme, second.captions_enabled, second.playback_speed) == (
        2, pb.THEME_DARK, True, 1.75)
    assert stub(content_channel).GetPreferences(pb.GetPreferencesRequest(user_id=user_id), timeout=5) == second


def test_a_stale_version_is_aborted_and_zero_skips_the_check(gateway_channel, content_channel):
    user_id = a_user(gateway_channel, "NORTH_AMERICA")
    update(content_channel, pb.UserPreferences(user_id=user_id, language="en"), "language")
    update(content_channel, pb.UserPreferences(user_id=user_id, version=1, language="fr"), "language")
    with pytest.raises(grpc.RpcError) as caught:
        update(content_channel, pb.UserPreferences(user_id=user_id, version=1, language="de"), "language")
    assert caught.value.code() == grpc.StatusCode.ABORTED
    assert error_info(caught.value).metadata["current_version"] == "2"
    assert update(content_channel, pb.UserPreferences(user_id=user_id, language="de"), "language").version == 3


@pytest.mark.parametrize("paths, prefs, field", [
    (["playback_speed"], dict(playback_speed=5.0), "preferences.playback_speed"),
    (["playback_speed"], dict(playback_speed=0.1), "preferences.playback_speed"),
    (["language"], dict(language="english please"), "preferences.language"),
    (["theme"], dict(theme=9), "preferences.theme"),
    (["notifications.sms"], {}, "update_mask"),
    (["version"], {}, "update_mask"),
])
def test_bad_preference_updates(gateway_channel, content_channel, mongo, paths, prefs, field):
    user_id = a_user(gateway_channel, "EUROPE")
    with pytest.raises(grpc.RpcError) as caught:
        update(content_channel, pb.UserPreferences(user_id=user_id, **prefs), *paths)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(caught.value)
    assert mongo["eu"].user_preferences.find_one({"_id": user_id}) is None


def test_a_malformed_user_id_is_invalid_argument(content_channel):
    with pytest.raises(grpc.RpcError) as caught:
        stub(content_channel).GetPreferences(pb.GetPreferencesRequest(user_id=7), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "user_id" in field_violations(caught.value)


@pytest.mark.slow
def test_concurrent_updates_without_a_version_all_succeed_and_each_counts(gateway_channel, content_channel, mongo):
    """Version 0 means no check: 30 writers at once, in 3 rounds, are never ABORTED and every one bumps the
    version once; the masked field of each lands (notifications of different writers are all kept)."""
    names = ("email_enabled", "push_enabled", "weekly_digest", "course_updates")
    for round_number in range(3):
        user_id = a_user(gateway_channel, "EUROPE")

        def write(n: int) -> str:
            name = names[n % len(names)]
            prefs = pb.UserPreferences(user_id=user_id, notifications=pb.NotificationSettings(**{name: n % 2 == 0}))
            try:
                update(content_channel, prefs, f"notifications.{name}")
                return "OK"
            except grpc.RpcError as error:
                return error.code().name

        with ThreadPoolExecutor(30) as pool:
            outcomes = list(pool.map(write, range(30)))
        assert outcomes.count("OK") == 30, (round_number, outcomes)
        stored = mongo["eu"].user_preferences.find_one({"_id": user_id})
        assert stored["version"] == 30


def test_preferences_of_a_user_that_does_not_exist_are_not_found(gateway_channel, content_channel, mongo):
    user_id = a_user(gateway_channel, "ASIA")
    users_stub(gateway_channel).DeleteUser(users_pb.DeleteUserRequest(id=user_id), timeout=10)
    with pytest.raises(grpc.RpcError) as caught:
        update(content_channel, pb.UserPreferences(user_id=user_id, language="en"), "language")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert all(db.user_preferences.find_one({"_id": user_id}) is None for db in mongo.values())
