"""`elearn seed` on the session cluster: what it reports per shard is what the shards' databases gained, and a
second run with the same seed replays instead of adding."""
from __future__ import annotations

import json
import random
import subprocess
import sys

import pymongo
import pytest

SHARDS = ("na", "eu", "apac")
SMALL = ["--students", "12", "--instructors", "6", "--categories", "5", "--courses", "4", "--enrollments", "10",
         "--payments", "6", "--password-users", "1"]
# What each reported kind is, as rows in a shard's PostgreSQL database.
SQL = {
    "users": "SELECT count(*) FROM users",
    "categories": "SELECT count(*) FROM course_categories",
    "courses": "SELECT count(*) FROM courses WHERE state = 'PUBLISHED'",
    "modules": "SELECT count(*) FROM course_modules",
    "lessons": "SELECT count(*) FROM course_lessons",
    "enrollments": "SELECT count(*) FROM enrollments",
    "lesson progress": "SELECT count(*) FROM lesson_progress",
    "payment methods": "SELECT count(*) FROM payment_methods",
    "payments": "SELECT count(*) FROM transactions WHERE kind = 'CHARGE' AND status = 'SUCCEEDED'",
    "invoices": "SELECT count(*) FROM invoices",
}
# ... and as documents in the shard's MongoDB database.
MONGO = {"content items": "content_items", "preferences": "user_preferences"}


def run_seed(cluster, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "launcher.cli", "seed", "--data-dir", str(cluster.layout.data_dir),
                           *SMALL, *args], capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def mongo(cluster):
    shard_map = cluster.settings().shard_map
    client = pymongo.MongoClient(shard_map.by_name("na").mongo_uri, serverSelectionTimeoutMS=5000)
    yield {name: client[shard_map.by_name(name).mongo_db] for name in SHARDS}
    client.close()


def database_counts(cluster, mongo) -> dict[str, dict[str, int]]:
    counts = {}
    for shard in SHARDS:
        counts[shard] = {kind: cluster.query(shard, "primary", sql)[0][0] for kind, sql in SQL.items()}
        counts[shard].update({kind: mongo[shard][name].count_documents({}) for kind, name in MONGO.items()})
    return counts


def test_seed_makes_what_it_reports_and_a_second_run_replays(cluster, mongo):
    seed = random.randrange(10_000, 10_000_000)
    before = database_counts(cluster, mongo)
    first = run_seed(cluster, "--seed", str(seed), "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    made = report["per_shard"]
    after = database_counts(cluster, mongo)

    for shard in SHARDS:
        gained = {kind: after[shard][kind] - before[shard][kind] for kind in after[shard]}
        assert gained == {kind: made[shard][kind] for kind in gained}, shard
        assert made[shard]["users"] > 0 and made[shard]["categories"] == 5
        seeded_users = cluster.query(shard, "primary", "SELECT count(*) FROM users WHERE email LIKE %s",
                                     (f"%.s{seed}.%",))[0][0]
        assert seeded_users == made[shard]["users"]
    total = {kind: sum(made[s][kind] for s in SHARDS) for kind in made["na"]}
    assert (total["users"], total["courses"], total["enrollments"], total["payments"], total["invoices"]) == (
        18, 4, 10, 6, 6)
    assert total["content items"] == total["lessons"] and total["preferences"] == 18
    assert 4 * 3 <= total["modules"] <= 4 * 8 and 3 * total["modules"] <= total["lessons"] <= 7 * total["modules"]
    assert report["notes"] == []

    second = run_seed(cluster, "--seed", str(seed))
    assert second.returncode == 0, second.stderr
    assert database_counts(cluster, mongo) == after
    users_row = next(line.split() for line in second.stdout.splitlines() if line.startswith("users "))
    assert users_row == ["users", *(str(made[s]["users"]) for s in SHARDS), "18"]


def test_impossible_counts_are_refused_before_any_call(cluster):
    result = run_seed(cluster, "--enrollments", "1000", "--seed", "1")
    assert result.returncode == 2
    assert "1000 enrollments need" in result.stderr
