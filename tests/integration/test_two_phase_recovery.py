"""In-doubt cross-shard transactions are committed when their home shard decided, else rolled back."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import time
import uuid

import psycopg2
import pytest

from launcher.pg_roles import finish_admin_in_doubt
from shared.errors import COMMIT_UNCONFIRMED, ShardUnavailable
from shared.pg.login import PgLogin, role_of
from shared.pg.pools import ShardPools
from shared.pg.recovery import RecoveryLoop
from shared.pg.twophase import CrossShardWrite, recover_in_doubt, recovery_lock


@pytest.fixture
def pools(cluster):
    pools = ShardPools.from_settings(cluster.settings())
    yield pools
    pools.close()


SETTLE_BOUND_S = 5.0


def users_gid(home: str = "eu") -> str:
    return f"elearn:users:{home}:{uuid.uuid4().hex}"


def prepare_claim(cluster, shard: str, gid: str, email: str) -> None:
    conn = cluster.pg(shard)
    conn.autocommit = False
    with conn.cursor() as cur:
        cur.execute("INSERT INTO email_directory (email, user_id) VALUES (%s, 1)", (email,))
        cur.execute("PREPARE TRANSACTION %s", (gid,))
    conn.close()


def recover_until_settled(cluster, pools, gids) -> dict[str, int]:
    """Recovery passes until no shard holds any of `gids` prepared, with their counts added up.

    The services' own passes run too (every few seconds, one process per shard at a time): one of them may
    finish a decided gid first, or hold a shard's pass lock when ours comes, and then ours skips that shard."""
    totals = {"committed": 0, "rolled_back": 0, "waiting": 0}
    for _ in range(50):
        for outcome, n in recover_in_doubt(pools, in_doubt_after_s=0.0).items():
            totals[outcome] += n
        if not any(cluster.query(shard, "primary", "SELECT count(*) FROM pg_prepared_xacts WHERE gid = ANY(%s)",
                                 (list(gids),))[0][0] for shard in ("na", "eu", "apac")):
            return totals
        time.sleep(0.1)
    raise AssertionError(f"still prepared after 50 recovery passes: {gids}")


def test_recovery_commits_decided_and_rolls_back_abandoned(cluster, pools):
    decided_gid, abandoned_gid = (users_gid() for _ in range(2))
    decided_email, abandoned_email = f"{uuid.uuid4().hex}@decided.test", f"{uuid.uuid4().hex}@abandoned.test"
    prepare_claim(cluster, "apac", decided_gid, decided_email)
    prepare_claim(cluster, "na", abandoned_gid, abandoned_email)
    cluster.execute("eu", "INSERT INTO tpc_decisions (gid) VALUES (%s)", (decided_gid,))

    rolled_back = recover_until_settled(cluster, pools, (decided_gid, abandoned_gid))["rolled_back"]

    assert rolled_back >= 1  # the services wait IN_DOUBT_AFTER_S before rolling back: only our pass did this
    assert cluster.query("apac", "primary", "SELECT count(*) FROM email_directory WHERE email = %s",
                         (decided_email,)) == [(1,)]
    assert cluster.query("na", "primary", "SELECT count(*) FROM email_directory WHERE email = %s",
                         (abandoned_email,)) == [(0,)]
    for shard in ("na", "eu", "apac"):
        assert cluster.query(shard, "primary", "SELECT count(*) FROM pg_prepared_xacts WHERE gid IN (%s, %s)",
                             (decided_gid, abandoned_gid)) == [(0,)]
    cluster.execute("apac", "DELETE FROM email_directory WHERE email = %s", (decided_email,))


def test_young_undecided_transactions_are_left_for_their_coordinator(cluster, pools):
    gid = users_gid()
    prepare_claim(cluster, "na", gid, f"{uuid.uuid4().hex}@young.test")
    try:
        assert recover_in_doubt(pools, in_doubt_after_s=3600)["waiting"] >= 1
        assert cluster.query("na", "primary", "SELECT count(*) FROM pg_prepared_xacts WHERE gid = %s",
                             (gid,)) == [(1,)]
    finally:
        cluster.execute("na", "ROLLBACK PREPARED %s", (gid,))


def test_a_failure_before_the_decision_leaves_no_shard_changed(cluster, pools):
    email = f"{uuid.uuid4().hex}@atomic.test"
    with pytest.raises(RuntimeError):
        with CrossShardWrite(pools, "eu") as write:
            write.cursor("apac").execute("INSERT INTO email_directory (email, user_id) VALUES (%s, 2)", (email,))
            write.cursor("eu").execute("INSERT INTO tpc_decisions (gid) VALUES (%s)", (f"probe-{email}",))
            raise RuntimeError("the coordinator fails before commit")
    for shard in ("eu", "apac"):
        assert cluster.query(shard, "primary", "SELECT count(*) FROM email_directory WHERE email = %s",
                             (email,)) == [(0,)]
    assert cluster.query("eu", "primary", "SELECT count(*) FROM tpc_decisions WHERE gid = %s",
                         (f"probe-{email}",)) == [(0,)]
    assert cluster.query("apac", "primary", "SELECT count(*) FROM pg_prepared_xacts") == [(0,)]


def test_a_participant_that_fails_to_prepare_rolls_back_everything(cluster, pools):
    email = f"{uuid.uuid4().hex}@prepare-fails.test"
    with pytest.raises(Exception):  # noqa: B017 (which error is beside the point: the rows are checked below)
        with CrossShardWrite(pools, "na") as write:
            write.cursor("na").execute("INSERT INTO tpc_decisions (gid) VALUES (%s)", (f"probe-{email}",))
            write.cursor("eu").execute("INSERT INTO email_directory (email, user_id) VALUES (%s, 3)", (email,))
            write.cursor("apac").execute("SELECT 1/0")
            write.commit()
    assert cluster.query("na", "primary", "SELECT count(*) FROM tpc_decisions WHERE gid = %s",
                         (f"probe-{email}",)) == [(0,)]
    assert cluster.query("eu", "primary", "SELECT count(*) FROM email_directory WHERE email = %s",
                         (email,)) == [(0,)]


def test_two_recoverers_do_not_fight_over_a_shard(cluster, pools):
    """While another instance's pass holds a shard, this pass leaves that shard (and every decision) alone;
    once it is free the next pass finishes the work."""
    gid = users_gid()
    email = f"{uuid.uuid4().hex}@contended.test"
    prepare_claim(cluster, "na", gid, email)
    other = cluster.pg("na")
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s, %s)", recovery_lock("users"))
        cluster.execute("eu", "INSERT INTO tpc_decisions (gid) VALUES (%s)", (gid,))  # decided once na is held
        recover_in_doubt(pools, in_doubt_after_s=0.0)
        assert cluster.query("na", "primary", "SELECT count(*) FROM pg_prepared_xacts WHERE gid = %s",
                             (gid,)) == [(1,)]
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", recovery_lock("users"))
    finally:
        other.close()
    recover_until_settled(cluster, pools, (gid,))
    assert cluster.query("na", "primary", "SELECT count(*) FROM email_directory WHERE email = %s",
                         (email,)) == [(1,)]
    cluster.execute("na", "DELETE FROM email_directory WHERE email = %s", (email,))


def prepared(cluster, gid: str) -> int:
    return sum(cluster.query(shard, "primary", "SELECT count(*) FROM pg_prepared_xacts WHERE gid = %s", (gid,))[0][0]
               for shard in ("na", "eu", "apac"))


def claim_across(pools, email: str, *, before_home_commit) -> tuple[CrossShardWrite, ShardUnavailable]:
    """A cross-shard write homed on eu claiming `email` on apac, with `before_home_commit(home connection)` run
    just as the home COMMIT goes out; returns the write and the error its commit raised."""
    with pytest.raises(ShardUnavailable) as failed, CrossShardWrite(pools, "eu") as write:
        write.cursor("eu").execute("SELECT 1")
        write.cursor("apac").execute("INSERT INTO email_directory (email, user_id) VALUES (%s, 4)", (email,))
        home = write._conns["eu"]
        commit = home.commit

        def interrupted_commit():
            before_home_commit(home)
            commit()

        home.commit = interrupted_commit
        write.commit()
    return write, failed.value


def test_a_home_commit_of_unknown_outcome_leaves_the_prepared_parts_to_recovery(cluster, pools):
    """The connection to the home shard is cut from this side as its COMMIT goes out: while the old backend is
    there the decision may still become durable, so the caller hears COMMIT_UNCONFIRMED and the prepared part is
    not rolled back (that could undo half of a committed write); recovery settles it by the decision row. Once
    the backend is gone without a decision, the write is rolled back at once. Either way no half stays."""
    def cut(home) -> None:  # as the watchdog cuts a node that froze while the COMMIT went out
        with socket.socket(fileno=os.dup(home.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)

    email = f"{uuid.uuid4().hex}@unknown.test"
    write, unknown = claim_across(pools, email, before_home_commit=cut)
    if unknown.reason == COMMIT_UNCONFIRMED:  # the old backend was still there when the write looked
        assert prepared(cluster, write.gid) == 1
        recover_until_settled(cluster, pools, (write.gid,))  # no decision reached eu: rolled back
    else:  # it had already gone, without the COMMIT, so nothing was decided: rolled back at once
        assert prepared(cluster, write.gid) == 0
    assert cluster.query("apac", "primary", "SELECT count(*) FROM email_directory WHERE email = %s",
                         (email,)) == [(0,)]


def test_a_home_session_the_server_ended_is_settled_at_once_by_the_decision_row(cluster, pools):
    """The server ends the home session as the COMMIT goes out (a switchover's shutdown): its backend is gone,
    so the decision row on the shard's writable node says the outcome. Here none was written: the caller gets a
    plain, retryable UNAVAILABLE (not COMMIT_UNCONFIRMED) and nothing stays prepared."""
    def end(home) -> None:
        cluster.execute("eu", "SELECT pg_terminate_backend(%s)", (home.get_backend_pid(),))

    email = f"{uuid.uuid4().hex}@ended.test"
    write, refused = claim_across(pools, email, before_home_commit=end)
    assert refused.reason != COMMIT_UNCONFIRMED
    assert prepared(cluster, write.gid) == 0
    assert cluster.query("apac", "primary", "SELECT count(*) FROM email_directory WHERE email = %s",
                         (email,)) == [(0,)]


def test_a_decision_read_that_loses_its_own_session_reads_again(cluster, pools, monkeypatch):
    """A switchover's shutdown ends the home session as the COMMIT goes out, and then the session that reads the
    decision too (the old node took it before it stopped): the read is tried again, so the outcome is still
    known, a plain retryable UNAVAILABLE here, not COMMIT_UNCONFIRMED (one switchover test write in ~2,300 was
    refused so, on a clean-clone CI run)."""
    real = pools.primary_connection
    ended: list[int] = []

    @contextlib.contextmanager
    def first_read_ended(shard):
        with real(shard) as conn:
            if not ended:
                ended.append(conn.get_backend_pid())
                cluster.execute(shard, "SELECT pg_terminate_backend(%s, 5000)", (conn.get_backend_pid(),))
            yield conn

    def end(home) -> None:
        monkeypatch.setattr(pools, "primary_connection", first_read_ended)
        cluster.execute("eu", "SELECT pg_terminate_backend(%s, 5000)", (home.get_backend_pid(),))

    email = f"{uuid.uuid4().hex}@reread.test"
    write, refused = claim_across(pools, email, before_home_commit=end)
    assert ended  # the decision's first read lost its session
    assert refused.reason != COMMIT_UNCONFIRMED
    assert prepared(cluster, write.gid) == 0
    assert cluster.query("apac", "primary", "SELECT count(*) FROM email_directory WHERE email = %s",
                         (email,)) == [(0,)]


@pytest.mark.parametrize("decided", [True, False])
def test_the_recovery_loop_settles_a_write_left_in_doubt_at_once(cluster, pools, decided):
    """Told by the write (pools.leave_in_doubt), not at its next periodic pass an hour away, nor after
    IN_DOUBT_AFTER_S (30 s) for a rollback; the services' own loops leave a young undecided gid alone. It takes
    SETTLE_AFTER_S (0.2 s) and a connection; SETTLE_BOUND_S leaves room for a loaded machine."""
    loop = RecoveryLoop(pools, interval_s=3600)
    loop.start()
    try:
        time.sleep(0.5)  # its start-up pass is over
        gid, email = users_gid(), f"{uuid.uuid4().hex}@settle.test"
        prepare_claim(cluster, "na", gid, email)
        if decided:
            cluster.execute("eu", "INSERT INTO tpc_decisions (gid) VALUES (%s)", (gid,))
        began = time.monotonic()
        pools.leave_in_doubt(gid, ["na"], decided=decided)
        while prepared(cluster, gid) and time.monotonic() - began < 2 * SETTLE_BOUND_S:
            time.sleep(0.05)
        took = time.monotonic() - began
    finally:
        loop.stop()
    assert prepared(cluster, gid) == 0 and took < SETTLE_BOUND_S, took
    assert cluster.query("na", "primary", "SELECT count(*) FROM email_directory WHERE email = %s",
                         (email,)) == [(1 if decided else 0,)]


def test_a_cross_shard_write_names_its_service_in_the_gid(pools):
    with CrossShardWrite(pools, "eu") as write:
        assert write.gid.startswith("elearn:users:eu:")


def prepare_empty(conn, gid: str) -> None:
    """A transaction prepared as `conn`'s role (an empty one: who owns it is what matters)."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1")
        cur.execute("PREPARE TRANSACTION %s", (gid,))
    conn.close()


def _login(cluster, service: str) -> PgLogin:
    return PgLogin(role_of(service), (cluster.layout.secrets_dir / f"pg-{service}").read_text().strip())


def _role_conn(cluster, service: str, shard: str):
    dsn = cluster.layout.pg_dsn(cluster.layout.pg_port(shard, "primary"))
    return psycopg2.connect(dsn, user=role_of(service), password=_login(cluster, service).password)


def test_a_service_role_finishes_its_own_prepared_writes_and_leaves_the_others(cluster):
    """Under the users role, a pass rolls back the users role's abandoned write and does not touch the
    courses role's, which only that role (or the admin) may finish."""
    own, other = users_gid(), f"elearn:courses:eu:{uuid.uuid4().hex}"
    users_conn, courses_conn = _role_conn(cluster, "users", "na"), _role_conn(cluster, "courses", "na")
    settings = dataclasses.replace(cluster.settings("users"), pg_login=_login(cluster, "users"))
    role_pools = ShardPools.from_settings(settings)  # its monitor finds the leader (a test may have moved it)
    try:
        prepare_empty(users_conn, own)
        prepare_empty(courses_conn, other)
        recover_until_settled(cluster, role_pools, (own,))
        assert cluster.query("na", "primary", "SELECT gid, owner FROM pg_prepared_xacts WHERE gid = ANY(%s)",
                             ([own, other],)) == [(other, role_of("courses"))]
    finally:
        role_pools.close()
        cluster.execute("na", "ROLLBACK PREPARED %s", (other,))


def test_a_gid_of_the_older_form_is_finished_by_the_admin_pass_alone(cluster, pools):
    """Written before gids named their service (prepared by the admin role): the users pass leaves it, the
    pass `elearn migrate` runs as the admin commits it once its home shard decided."""
    gid = f"elearn:eu:{uuid.uuid4().hex}"
    email = f"{uuid.uuid4().hex}@older.test"
    prepare_claim(cluster, "na", gid, email)
    cluster.execute("eu", "INSERT INTO tpc_decisions (gid) VALUES (%s)", (gid,))
    recover_in_doubt(pools, in_doubt_after_s=0.0)
    assert cluster.query("na", "primary", "SELECT count(*) FROM pg_prepared_xacts WHERE gid = %s", (gid,)) == [(1,)]
    assert finish_admin_in_doubt(pools.shard_map)["committed"] >= 1
    assert cluster.query("na", "primary", "SELECT count(*) FROM pg_prepared_xacts WHERE gid = %s", (gid,)) == [(0,)]
    assert cluster.query("na", "primary", "SELECT count(*) FROM email_directory WHERE email = %s",
                         (email,)) == [(1,)]
    cluster.execute("na", "DELETE FROM email_directory WHERE email = %s", (email,))
