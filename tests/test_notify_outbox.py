"""The outbox: a message is queued once, sent once, retried with backoff, and never resent after a restart."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

import pytest

from sheetsync.notify import defaults
from sheetsync.notify.outbox import Delivery, SqliteOutbox, retry_at

NOW = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)


def delivery(key="daily:Alice:2026-11-30", target="wecombot://key-1"):
    return Delivery(key, "daily", "Alice", target, "Your pipeline", "- OPP-1 Acme: overdue")


@pytest.fixture(params=["sqlite", "postgresql"])
def reopen(request, tmp_path):
    """Open the outbox again as another process would: the state.db file, or a PostgreSQL workspace."""
    if request.param == "sqlite":
        yield lambda: SqliteOutbox(tmp_path / "state.db")
        return
    from sheetsync.backends import PostgresBackend
    from sheetsync.backends.pg_outbox import PostgresOutbox

    backends = []
    workspace = "ws-" + secrets.token_hex(4)

    def open_box():
        backend = PostgresBackend(request.getfixturevalue("pg_url"))
        backend.migrate()
        backends.append(backend)
        return PostgresOutbox(backend.db, workspace)

    yield open_box
    for backend in backends:
        backend.close()


@pytest.fixture
def outbox(reopen):
    box = reopen()
    yield box
    box.close()


def test_a_message_key_is_queued_once_even_from_a_new_process(reopen, outbox):
    assert outbox.add([delivery(), delivery(target="mailto://x?to=a@b.c")], NOW) == 2
    assert outbox.add([delivery()], NOW) == 0
    again = reopen()
    assert again.add([delivery(target="slack://a/b/c")], NOW + timedelta(hours=1)) == 0
    assert again.has_message("daily:Alice:2026-11-30")
    again.close()


def test_a_named_run_queues_nothing_the_second_time(outbox):
    assert outbox.add([delivery()], NOW, once="daily:2026-11-30") == 1
    assert outbox.add([delivery("daily:Bob:2026-11-30")], NOW, once="daily:2026-11-30") == 0
    assert outbox.has_message("daily:2026-11-30")
    assert outbox.add([], NOW, once="daily:2026-12-01") == 0
    assert outbox.has_message("daily:2026-12-01")


def test_sent_deliveries_are_never_claimed_again_after_a_restart(reopen, outbox):
    outbox.add([delivery()], NOW)
    ((claimed, attempt),) = outbox.claim(NOW, 10)
    assert attempt == 1
    outbox.mark_sent(claimed, NOW)
    outbox.close()
    reopened = reopen()
    assert reopened.recover(NOW) == 0
    assert reopened.claim(NOW + timedelta(days=1), 10) == []
    assert reopened.stats(NOW)["sent"] == 1
    reopened.close()


def test_a_delivery_cut_off_mid_send_is_marked_unsure_not_resent(reopen, outbox):
    outbox.add([delivery()], NOW)
    outbox.claim(NOW, 10)  # the process dies here, before the result is recorded
    outbox.close()
    reopened = reopen()
    assert reopened.recover(NOW) == 1
    assert reopened.claim(NOW + timedelta(days=1), 10) == []
    stats = reopened.stats(NOW)
    assert stats["unsure"] == 1 and "not sent again" in stats["last_error"]
    reopened.close()


def test_failures_are_retried_with_growing_delays_then_given_up(outbox):
    outbox.add([delivery()], NOW)
    now = NOW
    waits = []
    for _ in range(len(defaults.RETRY_DELAYS) + 1):
        ((item, attempt),) = outbox.claim(now, 10)
        nxt = retry_at(attempt, now)
        outbox.mark_failed(item, now, "HTTP 500 from wecombot://…ey-1", nxt)
        if nxt is None:
            break
        assert outbox.claim(nxt - timedelta(seconds=1), 10) == []
        waits.append((nxt - now).total_seconds())
        now = nxt
    assert waits == list(defaults.RETRY_DELAYS)
    assert outbox.claim(now + timedelta(days=30), 10) == []
    stats = outbox.stats(now)
    assert stats["failed"] == 1 and stats["pending"] == 0
    assert stats["last_error"] == "daily to Alice: HTTP 500 from wecombot://…ey-1"
    (problem,) = outbox.problems()
    assert problem["status"] == "failed" and problem["attempts"] == len(defaults.RETRY_DELAYS) + 1
    assert "target" not in problem


def test_stats_count_retrying_items_and_never_show_targets(outbox):
    outbox.add([delivery()], NOW)
    ((item, attempt),) = outbox.claim(NOW, 10)
    outbox.mark_failed(item, NOW, "timed out", retry_at(attempt, NOW))
    stats = outbox.stats(NOW)
    assert (stats["pending"], stats["retrying"]) == (1, 1)
    assert "key-1" not in repr(stats) + repr(outbox.problems())


def test_prune_forgets_old_sent_deliveries(outbox):
    outbox.add([delivery()], NOW)
    ((item, _),) = outbox.claim(NOW, 10)
    outbox.mark_sent(item, NOW)
    assert outbox.prune(NOW + timedelta(days=defaults.KEEP_SENT_DAYS - 1)) == 0
    assert outbox.prune(NOW + timedelta(days=defaults.KEEP_SENT_DAYS + 1)) == 1


@pytest.mark.parametrize("setting, workdays, language, day, expected", [
    ("auto", "cn", "zh", "2025-10-01", False),   # National Day holiday (a Wednesday)
    ("auto", "cn", "zh", "2025-09-28", True),    # the Sunday worked in exchange (调休)
    ("auto", "auto", "en", "2025-09-27", False),  # en: every-day proposals, but digests only Monday-Friday
    ("auto", "auto", "en", "2025-10-01", True),
    ("mon,sat", "cn", "zh", "2025-10-04", True),  # explicit days win over the calendar
])
def test_daily_digests_follow_the_team_calendar(tmp_path, setting, workdays, language, day, expected):
    from datetime import date

    from sheetsync.config import Config
    from sheetsync.notify.notifier import Notifier

    box = SqliteOutbox(tmp_path / "state.db")
    notifier = Notifier(Config(notify_workdays=setting, workdays=workdays), box)
    assert notifier.is_workday(date.fromisoformat(day), language) is expected
    box.close()
