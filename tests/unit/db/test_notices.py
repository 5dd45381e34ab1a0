"""Which statements send which notice when committed (auth changes, sync changes)."""

from __future__ import annotations

import pytest

from api.db.notices import AUTH_CHANNEL, SYNC_CHANNEL, channels_touched


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE auth_sessions SET revoked_at=%(revoked_at)s WHERE auth_sessions.id = %(id)s",
        'update "users" set active = false where id = 1',
        "DELETE FROM tenants WHERE tenants.id = %(id)s",
        "UPDATE ONLY public.auth_sessions SET revoked_at = now()",
        "  TRUNCATE users CASCADE",
        "INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET active = false",
        "WITH gone AS (DELETE FROM auth_sessions RETURNING id) SELECT count(*) FROM gone",
    ],
)
def test_writes_to_sessions_users_or_tenants_are_auth_changes(sql: str) -> None:
    assert AUTH_CHANNEL in channels_touched(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT auth_sessions.revoked_at, users.active FROM auth_sessions JOIN users ON 1=1",
        "INSERT INTO auth_sessions (id, user_id) VALUES (%(id)s, %(user_id)s)",
        "UPDATE work_orders SET title = %(title)s WHERE work_orders.id = %(id)s",
        "UPDATE api_keys SET last_used_at = now()",
        "DELETE FROM user_settings",
        "INSERT INTO notes (body) VALUES ('users asked: UPDATE users SET active = false')",
    ],
)
def test_reads_inserts_and_other_tables_are_not(sql: str) -> None:
    assert AUTH_CHANNEL not in channels_touched(sql)


@pytest.mark.parametrize(
    ("sql", "channels"),
    [
        ("UPDATE sync_counter SET value=(sync_counter.value + %(value_1)s)", (SYNC_CHANNEL,)),
        ("INSERT INTO sync_scope_changes (tenant_id, change_seq) VALUES (1, 2)", (SYNC_CHANNEL,)),
        ("INSERT INTO sync_devices (id, user_id) VALUES (%(id)s, %(user_id)s)", (SYNC_CHANNEL,)),
        ("UPDATE sync_devices SET last_pull_at=%(last_pull_at)s", (SYNC_CHANNEL,)),
        ("DELETE FROM sync_scope_changes WHERE change_seq < 10", (SYNC_CHANNEL,)),
        (
            "INSERT INTO sync_scope_floors (scope) VALUES ('x') ON CONFLICT DO NOTHING",
            (SYNC_CHANNEL,),
        ),
        ("TRUNCATE sync_counter, users CASCADE", (AUTH_CHANNEL, SYNC_CHANNEL)),
        ("UPDATE auth_sessions SET revoked_at = now()", (AUTH_CHANNEL,)),
        ("INSERT INTO sync_receipts (seq) VALUES (1)", ()),
        ("SELECT value FROM sync_counter WHERE tenant_id = %(tenant)s", ()),
        ("INSERT INTO sync_scope_members (scope) VALUES ('technician:x')", ()),
    ],
)
def test_writes_to_what_a_quiet_pull_reads_notify_the_sync_channel(
    sql: str, channels: tuple[str, ...]
) -> None:
    """A new device row changes a quiet pull, so on this channel plain inserts count."""
    assert channels_touched(sql) == channels
