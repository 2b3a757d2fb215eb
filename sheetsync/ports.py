"""The ports: what the core, the stores and the backends agree on, and nothing else.

This module imports only the standard library, so the pure core can be imported without config, tomllib,
zoneinfo, openpyxl, gspread, SQLite or PostgreSQL. Adapters implement the abstract classes below:

- `Store`: the spreadsheet (stores/excel.py, stores/google.py);
- `Queue`: the durable intake queue (intake/queue.py on SQLite, backends/postgres.py);
- `StateStore`: round-robin cursors, last-seen values and other small state (state.py, backends/postgres.py);
- `PipelineLock`: one writer per pipeline at a time (a file lock locally, an advisory lock on PostgreSQL).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the template module is data layout only; stores receive it, the core never does
    from .template import Layout

# -- the store port ------------------------------------------------------------------------------

Cell = str | int | float | Decimal | bool | date | datetime | time | timedelta | None
"""A cell value: text, a number, true/false, a date, time or duration, or None (blank)."""


@dataclass
class TabData:
    """One tab as read: its title in the workbook and every row, the header row first (row 1)."""

    title: str
    rows: list[list[Cell]]

    def cell(self, row: int, col: int) -> Cell:
        """The value at a 1-based sheet row and 0-based column, None beyond the data."""
        if row - 1 >= len(self.rows):
            return None
        values = self.rows[row - 1]
        return values[col] if col < len(values) else None


@dataclass
class Snapshot:
    """Every tab the store was asked for, keyed by schema tab key (see core.schema.TABS)."""

    tabs: dict[str, TabData]
    timezone: str | None = None
    """The spreadsheet's own timezone when the store knows it (Google Sheets does)."""
    version: object = None
    """Opaque token the store uses to notice that someone saved in between."""
    titles: tuple[str, ...] = ()
    """Every tab title in the workbook, including ones sheetsync does not know."""
    fingerprint: str | None = None
    """Digest of exactly what the store returned for these tabs (raw bytes, before any conversion), or None when
    the store cannot tell cheaply. Equal fingerprints mean equal `tabs`, so a cycle may skip planning when it
    already planned these very contents (see sync.Syncer)."""


@dataclass(frozen=True)
class CellWrite:
    """Write `value` at a 1-based sheet row and 0-based column of a tab (by tab key)."""

    tab: str
    row: int
    col: int
    value: Cell


@dataclass(frozen=True)
class Guard:
    """The write is valid only while this cell still holds what the snapshot showed."""

    tab: str
    row: int
    col: int
    expected: Cell


@dataclass(frozen=True)
class ChartSpec:
    """A bar chart on a tab: categories and values are 1-based row spans of two 0-based columns."""

    tab: str
    title: str
    first_row: int
    last_row: int
    category_col: int
    value_col: int
    anchor_row: int
    anchor_col: int
    series_title: str = ""
    integer_ticks: bool = False
    """Counts: the value axis shows whole numbers only (0, 1, 2 …), never 0.5."""
    value_max: float | None = None
    """The largest value plotted, when the planner knows it (stores size an integer axis from it)."""
    key: str = ""
    """Which of the tab's charts this is ("" for the only one); a store keeps one chart per key."""


@dataclass
class WriteBatch:
    """Everything one cycle writes, applied together or not at all."""

    cells: list[CellWrite] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)
    appends: dict[str, list[list[Cell]]] = field(default_factory=dict)
    """Rows to add below the last non-blank row of a tab, in column order of its header row."""
    replace: dict[str, list[list[Cell]]] = field(default_factory=dict)
    """System tabs rebuilt whole: rows from row 2 (row 1 for headerless tabs); older rows beyond are cleared."""
    charts: list[ChartSpec] = field(default_factory=list)
    formats: dict[tuple[str, int, int], str] = field(default_factory=dict)
    """Formats for replaced cells, keyed (tab, 1-based row, 0-based col): a kind from core.formats
    ("bold", "percent", "amount", "amount_cn", "decimal", "integer")."""

    def __bool__(self) -> bool:
        return bool(self.cells or self.appends or self.replace or self.charts)


class StoreError(Exception):
    """The store cannot be reached or used; the message says what to fix."""


class StoreConflict(StoreError):
    """Someone changed the sheet between the read and the write; read again and re-plan."""


class Store(ABC):
    """A spreadsheet sheetsync keeps: the local workbook or a Google Sheet."""

    @abstractmethod
    def read(self, tabs: Collection[str] | None = None) -> Snapshot:
        """Read the given tabs (schema keys; all known tabs when None) in one go."""

    @abstractmethod
    def write(self, snapshot: Snapshot, batch: WriteBatch) -> bool:
        """Apply the batch planned from `snapshot`; raise StoreConflict if the sheet moved underneath it.

        Returns False when the sheet already held everything the batch asks for and nothing was written.

        What every store guarantees: just before writing, it checks what the plan relies on — the header
        rows of the tabs it touches, every cell named by `batch.guards`, and the rows it writes cells into —
        and when any of it changed, nothing is written and StoreConflict is raised (read again, re-plan).
        A person's edit that lands after that check and before the write itself is never lost either:
        the workbook store notices it before replacing the file (StoreConflict, nothing written); the
        Google store, whose API writes by row position and has no conditional write, fences the write,
        reads back where every value landed and repairs by ID in the next request (values people had are
        put back, its own values move to their rows, a fill never replaces a typed value, History says
        so). Text is always written as text, never as a formula.
        """

    @abstractmethod
    def setup(self, layout: Layout) -> list[str]:
        """Create missing tabs and columns from a workbook template, keeping everything people entered.

        Returns one line per change made, for the user.
        """

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, for messages ("workbook ./pipeline.xlsx")."""


# -- the queue port ------------------------------------------------------------------------------

CREATE, UPDATE, FOLLOWUP = "create", "update", "followup"
"""The kinds of submission: a new lead, a change to a sender's earlier lead, a follow-up."""
KINDS = (CREATE, UPDATE, FOLLOWUP)


@dataclass(frozen=True)
class Submission:
    """One queued form submission, already mapped to column keys."""

    key: str
    kind: str
    opportunity_id: str
    fields: Mapping[str, str]
    received: datetime
    source: str = ""


@dataclass(frozen=True)
class Claimed(Submission):
    """A queued submission leased to one flush, with how many times it has been tried."""

    attempts: int = 1


@dataclass(frozen=True)
class Incoming:
    """One verified, parsed and mapped submission, ready to be queued."""

    source: str
    kind: str
    fields: Mapping[str, str]
    raw: bytes
    content_type: str = ""
    idempotency_key: str | None = None
    delivery_id: str | None = None
    external_id: str | None = None
    """The sender's own record ID (Jiandaoyun data._id): later pushes for it update the same opportunity."""
    opportunity_id: str | None = None
    """The target of an update or follow-up, when the sender names one."""
    warnings: Sequence[str] = ()


@dataclass(frozen=True)
class Receipt:
    """The answer for a submission: the first one, also for every repeat of it."""

    key: str
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


class IdempotencyConflict(Exception):
    """The same idempotency key came back with a different body; the sender must use a new key."""


class QueueUnavailable(Exception):
    """The queue's database cannot be reached or written right now; the submission was not accepted."""


class Queue(ABC):
    """The durable intake queue.

    Guarantees every backend gives: `submit` returns only after the item is committed (durable), a repeat
    (same idempotency key or delivery ID from the same source) gets the first answer and adds nothing, an
    item leaves `claim` only for one holder at a time until its lease runs out, and it is done only when
    `complete` is called for it.
    """

    @abstractmethod
    def submit(self, item: Incoming, now: datetime) -> Receipt:
        """Commit `item` and return its answer, or return the first answer when it is a repeat."""

    @abstractmethod
    def claim(self, limit: int, lease_seconds: float, now: datetime) -> list[Claimed]:
        """Lease up to `limit` ready items in arrival order; an earlier item of one opportunity goes first."""

    @abstractmethod
    def complete(self, keys: Sequence[str], now: datetime, outcome: str = "landed") -> None:
        """Mark items done after the store confirmed them (outcome: landed or already)."""

    @abstractmethod
    def fail(self, keys: Sequence[str], error: str, now: datetime, *, transient: bool = False) -> list[str]:
        """Put leased items back with `error`, to be retried after a backoff; return the keys set aside.

        An item refused too often (the queue's max attempts) or for too long (its max age) is set aside as
        needing attention (status "attention") instead, and from then on holds back no later item. A
        transient failure (store down or busy: not the item's fault) never sets an item aside.
        """

    @abstractmethod
    def needs_attention(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Return the items set aside as needing attention, oldest first, as `get` returns them."""

    @abstractmethod
    def retry(self, key: str, now: datetime) -> bool:
        """Send an item needing attention (or waiting) back to the queue now with fresh tries; False if none."""

    @abstractmethod
    def drop(self, key: str, now: datetime) -> bool:
        """Give up on an item needing attention (or waiting): done with outcome "dropped"; False if none."""

    @abstractmethod
    def record_flush(self, now: datetime, result: str, error: str | None = None) -> None:
        """Remember when the last flush ran, what it did, and the last error seen."""

    @abstractmethod
    def prune(self, now: datetime, keep_days: float = 30) -> int:
        """Delete landed items older than `keep_days`; their IDs stay reserved. Return how many went."""

    @abstractmethod
    def stats(self, now: datetime) -> dict[str, Any]:
        """Return queue depth, oldest pending age, retries and the last flush, for /api/status.

        Also `needs_attention_count` and `needs_attention` (the first items: key, kind, source,
        opportunity_id, reason, attempts, customer, since); depth counts only items still to land.
        """

    @abstractmethod
    def get(self, key: str) -> dict[str, Any] | None:
        """Return one item as stored (raw payload included), or None."""

    @abstractmethod
    def items(self, status: str | None = None) -> list[dict[str, Any]]:
        """Return every item in arrival order, optionally only those with `status`."""

    @abstractmethod
    def close(self) -> None:
        """Release every connection."""


# -- the state port ------------------------------------------------------------------------------


class StateStore(ABC):
    """Small state a pipeline keeps between cycles; every `save` is one transaction."""

    @abstractmethod
    def get(self, name: str, default: Any = None) -> Any:
        """Return the JSON value saved under `name`, or `default`."""

    @abstractmethod
    def seen(self) -> dict[str, dict[str, Any]]:
        """Each opportunity ID's tracked values as of the last successful cycle."""

    @abstractmethod
    def save(self, *, cursors: Mapping[str, Any] | None = None, seen: Mapping[str, Mapping[str, Any]] | None = None,
             **values: Any) -> None:
        """Store the given parts in one transaction; `seen` replaces the whole table."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def cursors(self) -> dict[str, Any]:
        """Round-robin positions per rule, as the assignment module left them."""
        return dict(self.get("cursors", {}))


# -- the lock port -------------------------------------------------------------------------------


class LockUnavailable(Exception):
    """Another process holds the pipeline's lock; the message names what to do."""


class PipelineLock(ABC):
    """One writer per pipeline at a time, across processes (and hosts, where the backend allows).

    The lock belongs to a process (its file handle or database connection): when the process dies, the
    lock is released by the operating system or the database, never left behind.
    """

    @abstractmethod
    def acquire(self, timeout: float = 0) -> bool:
        """Take the lock, waiting up to `timeout` seconds; return whether this process now holds it."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock up; harmless when not held."""

    @abstractmethod
    def held(self) -> bool:
        """Tell whether this process still holds the lock (a database connection may have been cut)."""

    def holder(self) -> str | None:
        """Describe who holds the lock now ("serve (pid 1234)"), or None when it is free or the backend cannot tell."""
        return None

    def __enter__(self) -> PipelineLock:
        if not self.acquire():
            raise LockUnavailable("Another sheetsync process is writing this pipeline; try again shortly.")
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
