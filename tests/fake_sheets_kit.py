"""Build a GoogleStore on the fake Sheets API: for tests, the store-contract kit and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fake_sheets_http import FakeTime


def make_store(fake: Any, *, timezone: str = "UTC", template: str = "en", clock: FakeTime | None = None,
               **client: Any) -> Any:
    """A GoogleStore talking to `fake` over a session adapter, with virtual time (it never really sleeps)."""
    from sheetsync.config import Config
    from sheetsync.stores.google import GoogleStore
    from sheetsync.stores.google_http import Pacer, SheetsHTTPClient

    time = clock or FakeTime()
    config = Config(store="google", google_spreadsheet=fake.spreadsheet_id, timezone=timezone, template=template)
    pacer = Pacer(clock=time.monotonic, sleep=time.sleep)
    http = SheetsHTTPClient(None, client.pop("session", None) or fake.session(), pacer=pacer, sleep=time.sleep,
                            clock=time.monotonic, wall_clock=time.time, rand=client.pop("rand", lambda: 0.5), **client)
    store = GoogleStore(config, http=http, account="sheetsync@demo-project.iam.gserviceaccount.com")
    store.fake_time = time  # type: ignore[attr-defined]
    return store


def google_kit(tmp_path: Path) -> Any:
    """The store-contract kit: a GoogleStore on a fresh fake, and a person editing and looking at it."""
    from conftest import StoreKit
    from fake_sheets import FakeSheets

    fake = FakeSheets()

    def in_gap(action: Any) -> None:
        fake.before("batchUpdate", lambda _fake: action())

    return StoreKit(make_store(fake), fake.type, fake.values, fake.sort, fake.insert_row, fake.delete_row, in_gap)
