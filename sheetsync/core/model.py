"""Typed views of the rows people keep: stages, team, rules, follow-ups and opportunities."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from ..ports import Cell
from . import values as v
from .schema import OPPORTUNITIES, HeaderMap, LayoutError, column_for, normalize

R = TypeVar("R")
_UNREAD: Any = object()
"""Marks a memo entry not worked out yet (None is a real answer)."""

OPEN, WON, LOST = "open", "won", "lost"
_OUTCOMES = {OPEN: OPEN, "": OPEN, "进行中": OPEN, "跟进中": OPEN, WON: WON, "赢单": WON, "成交": WON,
             "签约": WON, LOST: LOST, "输单": LOST, "流失": LOST, "丢单": LOST}


def _cell_problem(tab: str, row: int, header: str, exc: v.ValueProblem) -> LayoutError:
    return LayoutError(f"'{tab}' row {row}, column '{header}': {exc}. Fix that cell and sync again.")


def _read(hm: HeaderMap, row_no: int, row: Sequence[Cell], key: str, parse):
    raw = hm.get(row, key)
    try:
        return parse(raw)
    except v.ValueProblem as exc:
        raise _cell_problem(hm.title, row_no, hm.headers[hm.index[key]], exc) from exc


def body_rows(rows: Sequence[Sequence[Cell]]) -> Iterable[tuple[int, Sequence[Cell]]]:
    """(sheet row number, row) for every non-blank row below the header row."""
    blank = v.is_blank
    for i, row in enumerate(rows[1:], start=2):
        for c in row:
            if c is not None and not blank(c):
                yield i, row
                break


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline as the Stages tab defines it."""

    name: str
    order: int
    probability: float
    follow_up_days: int | None
    stale_days: int | None
    required: tuple[str, ...]
    needs_approval: bool
    outcome: str
    reclaim_days: int | None = None
    """Days without a follow-up after which an open deal here goes back to the pool (公海); None = never."""

    @property
    def is_open(self) -> bool:
        return self.outcome == OPEN


@dataclass(frozen=True)
class Pipeline:
    """The ordered stages; a blank Stage cell means the first one."""

    stages: tuple[Stage, ...]
    by_name: dict[str, Stage] = field(repr=False, compare=False)
    found: dict[str, Stage | None] = field(default_factory=dict, repr=False, compare=False)
    """Each Stage text already looked up, as typed (a sheet repeats a few spellings thousands of times)."""
    memo: dict[object, Any] = field(default_factory=dict, repr=False, compare=False)
    """Anything else worked out from the stages alone, by who asked (e.g. validate's required fields)."""

    @classmethod
    def of(cls, stages: Iterable[Stage]) -> Pipeline:
        ordered = tuple(sorted(stages, key=lambda s: s.order))
        return cls(ordered, {normalize(s.name): s for s in ordered})

    @property
    def first(self) -> Stage:
        return self.stages[0]

    def find(self, name: object) -> Stage | None:
        """The stage a cell names; blank means the first stage; None when unknown."""
        if type(name) is str:
            stage = self.found.get(name, _UNREAD)
            if stage is _UNREAD:
                stage = self.found[name] = self._find(name)
            return stage  # type: ignore[return-value]
        return self._find(name)

    def _find(self, name: object) -> Stage | None:
        if v.is_blank(name):
            return self.first
        return self.by_name.get(normalize(name))

    def index(self, stage: Stage) -> int:
        return self.stages.index(stage)

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.is_open)


def _required_keys(hm: HeaderMap, row_no: int, raw: object, extra: Sequence[str]) -> tuple[str, ...]:
    keys = []
    for name in v.parse_list(raw):
        column = column_for(OPPORTUNITIES, name)
        key = column.key if column else normalize(name)
        if column is None and normalize(name) not in extra:
            raise LayoutError(
                f"'{hm.title}' row {row_no}: required field '{name}' is not a column of Opportunities. "
                f"Use a header name such as Amount or Expected close.")
        keys.append(key)
    return tuple(keys)


def read_pipeline(hm: HeaderMap, rows: Sequence[Sequence[Cell]],
                  custom_columns: Sequence[str] = ()) -> Pipeline:
    """The Stages tab as a Pipeline; a bad cell raises LayoutError naming it."""
    stages = []
    for n, (row_no, row) in enumerate(body_rows(rows)):
        name = v.text(hm.get(row, "stage"))
        if not name:
            continue
        outcome_text = normalize(hm.get(row, "outcome"))
        if outcome_text not in _OUTCOMES:
            raise LayoutError(f"'{hm.title}' row {row_no}: Outcome '{v.text(hm.get(row, 'outcome'))}' "
                              "should be open, won or lost.")
        order = _read(hm, row_no, row, "order", v.parse_number)
        probability = _read(hm, row_no, row, "probability", v.parse_percent)
        outcome = _OUTCOMES[outcome_text]
        stages.append(Stage(
            name=name,
            order=int(order) if order is not None else n + 1,
            probability=probability if probability is not None else (1.0 if outcome == WON else 0.0),
            follow_up_days=_opt_int(_read(hm, row_no, row, "follow_up_days", v.parse_number)),
            stale_days=_opt_int(_read(hm, row_no, row, "stale_days", v.parse_number)),
            required=_required_keys(hm, row_no, hm.get(row, "required_fields"), custom_columns),
            needs_approval=_read(hm, row_no, row, "needs_approval", v.parse_bool),
            outcome=outcome,
            reclaim_days=_opt_int(_read(hm, row_no, row, "reclaim_days", v.parse_number)),
        ))
    if not stages:
        raise LayoutError(f"'{hm.title}' lists no stages: add at least one row (e.g. Lead, Won, Lost).")
    names = [normalize(s.name) for s in stages]
    for name in names:
        if names.count(name) > 1:
            raise LayoutError(f"'{hm.title}' lists the stage '{name}' twice: keep one row per stage.")
    return Pipeline.of(stages)


def _opt_int(number: float | None) -> int | None:
    return None if number is None else int(number)


@dataclass(frozen=True)
class Rep:
    """A salesperson from the Team tab."""

    name: str
    email: str = ""
    im: str = ""
    regions: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    capacity: int | None = None
    weight: float = 1.0
    active: bool = True
    on_leave_until: date | None = None
    manager: str = ""
    target: Decimal | None = None
    """Won amount the rep is expected to bring in per month (Team's Target column)."""
    role: str = ""
    """What the rep does, as typed in Team's Role column (sales, service, manager; 销售, 服务, 主管)."""

    def available(self, today: date) -> bool:
        """Active and not on leave today (leave ends the day after 'On leave until')."""
        return self.active and (self.on_leave_until is None or self.on_leave_until < today)


SERVICE_ROLES = frozenset(normalize(w) for w in ("service", "customer service", "support", "csm", "account manager",
                                                "服务", "客服", "售后", "客户成功", "服务人员"))
"""Role words that mark a rep as service (成交转服务): they get won customers, not new leads."""
MANAGER_ROLES = frozenset(normalize(w) for w in ("manager", "sales manager", "head of sales", "主管", "经理",
                                                "销售经理", "销售主管", "总监"))
"""Role words that mark a rep as a manager: they approve deals, and get no new leads from 'All'."""


def is_service(rep: Rep) -> bool:
    """Tell whether the Team's Role column says this person works in service."""
    return normalize(rep.role) in SERVICE_ROLES


def sells(rep: Rep) -> bool:
    """Tell whether the person takes new leads from 'All' (a blank Role means sales)."""
    return normalize(rep.role) not in SERVICE_ROLES | MANAGER_ROLES


def read_team(hm: HeaderMap, rows: Sequence[Sequence[Cell]]) -> list[Rep]:
    """The Team tab as reps; a bad cell raises LayoutError naming it."""
    reps: list[Rep] = []
    for row_no, row in body_rows(rows):
        name = v.text(hm.get(row, "name"))
        if not name:
            continue
        weight = _read(hm, row_no, row, "weight", v.parse_number)
        if weight is not None and weight < 0:
            raise LayoutError(f"'{hm.title}' row {row_no}: Weight {v.text(weight)} must not be negative.")
        reps.append(Rep(
            name=name,
            email=v.text(hm.get(row, "email")),
            im=v.text(hm.get(row, "im")),
            regions=tuple(v.parse_list(hm.get(row, "regions"))),
            industries=tuple(v.parse_list(hm.get(row, "industries"))),
            levels=tuple(v.parse_list(hm.get(row, "levels"))),
            capacity=_opt_int(_read(hm, row_no, row, "capacity", v.parse_number)),
            weight=1.0 if weight is None else weight,
            active=_read(hm, row_no, row, "active", lambda x: v.parse_bool(x, default=True)),
            on_leave_until=_read(hm, row_no, row, "on_leave_until", v.parse_date),
            manager=v.text(hm.get(row, "manager")),
            target=_read(hm, row_no, row, "target", v.parse_amount),
            role=v.text(hm.get(row, "role")),
        ))
    return reps


ROUND_ROBIN, LEAST_LOADED = "round-robin", "least-loaded"
_METHODS = {"roundrobin": ROUND_ROBIN, "rr": ROUND_ROBIN, "轮流": ROUND_ROBIN, "轮询": ROUND_ROBIN,
            "轮流分配": ROUND_ROBIN, "": ROUND_ROBIN, "leastloaded": LEAST_LOADED, "least": LEAST_LOADED,
            "fewestopen": LEAST_LOADED, "最少": LEAST_LOADED, "负载最少": LEAST_LOADED, "最少优先": LEAST_LOADED,
            "均衡": LEAST_LOADED}
DEFAULT_FIELDS = {"", "*", "default", "any", "all", "默认", "其他", "其它", "全部"}


@dataclass(frozen=True)
class Rule:
    """One row of the Rules tab: when Field matches one of Values, assign to these reps by Method."""

    row: int
    priority: float
    field: str | None
    values: tuple[str, ...]
    assign_to: tuple[str, ...]
    method: str
    label: str

    @property
    def is_default(self) -> bool:
        return self.field is None


def read_rules(hm: HeaderMap, rows: Sequence[Sequence[Cell]], opportunity_columns: dict[str, str]) -> list[Rule]:
    """The Rules tab in priority order; `opportunity_columns` maps folded header names to column keys."""
    rules = []
    for row_no, row in body_rows(rows):
        targets = tuple(v.parse_list(hm.get(row, "assign_to")))
        if not targets:
            raise LayoutError(f"'{hm.title}' row {row_no} has no 'Assign to': name a rep, several reps "
                              "or a pool (a region or industry from the Team tab).")
        field_name = v.text(hm.get(row, "field"))
        field_key: str | None = None
        if normalize(field_name) not in DEFAULT_FIELDS:
            column = column_for(OPPORTUNITIES, field_name)
            field_key = column.key if column else opportunity_columns.get(normalize(field_name))
            if field_key is None:
                raise LayoutError(f"'{hm.title}' row {row_no}: Field '{field_name}' is not a column of "
                                  "Opportunities. Use a header such as Region, Industry, Level or Source.")
        method_text = normalize(hm.get(row, "method"))
        if method_text not in _METHODS:
            raise LayoutError(f"'{hm.title}' row {row_no}: Method '{v.text(hm.get(row, 'method'))}' should be "
                              "round-robin or least-loaded.")
        priority = _read(hm, row_no, row, "priority", v.parse_number)
        note = v.text(hm.get(row, "note"))
        values = tuple(v.parse_list(hm.get(row, "values")))
        label = note or (f"{field_name} = {', '.join(values)}" if field_key else "Default rule")
        rules.append(Rule(row_no, priority if priority is not None else float(row_no), field_key, values,
                          targets, _METHODS[method_text], label))
    rules.sort(key=lambda r: (r.is_default, r.priority, r.row))
    return rules


@dataclass(frozen=True)
class FollowUp:
    """One logged contact from the Follow-ups tab."""

    row: int
    when: date | None
    opportunity_id: str
    customer: str
    phone: str
    channel: str
    summary: str
    next_follow_up: date | None
    by: str


def _lenient(parse, raw):
    try:
        return parse(raw)
    except v.ValueProblem:
        return None


def read_followups(hm: HeaderMap, rows: Sequence[Sequence[Cell]]) -> list[FollowUp]:
    """The Follow-ups tab; a date nobody can read is left out of Last contact rather than guessed."""
    return [FollowUp(
        row=row_no,
        when=_lenient(v.parse_date, hm.get(row, "date")),
        opportunity_id=v.text(hm.get(row, "opportunity_id")),
        customer=v.text(hm.get(row, "customer")),
        phone=v.text(hm.get(row, "phone")),
        channel=v.text(hm.get(row, "channel")),
        summary=v.text(hm.get(row, "summary")),
        next_follow_up=_lenient(v.parse_date, hm.get(row, "next_follow_up")),
        by=v.text(hm.get(row, "by")),
    ) for row_no, row in body_rows(rows)]


class Cells(dict[str, Cell]):
    """An opportunity's cells by column key, remembering each cell's text and date until any cell changes.

    A cycle asks for the same few cells of every row dozens of times (its ID, owner, stage, dates); reading
    each once keeps a cycle's cost per row flat. Every way of changing the dict forgets what was read.
    """

    __slots__ = ("texts", "dates", "derived")

    def __init__(self, *args: object, **kwargs: Cell) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._forget()

    def _forget(self) -> None:
        self.texts: dict[str, str] = {}
        self.dates: dict[str, date | None] = {}
        self.derived: dict[object, object] = {}
        """Anything else worked out from the cells alone (e.g. duplicates' identities), by who asked."""

    def __setitem__(self, key: str, value: Cell) -> None:
        super().__setitem__(key, value)
        self._forget()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._forget()

    def __ior__(self, other):  # type: ignore[no-untyped-def, override, misc]
        self.update(other)
        return self

    def update(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def, override]
        super().update(*args, **kwargs)
        self._forget()

    def setdefault(self, key: str, default: Cell = None) -> Cell:  # type: ignore[override]
        self._forget()
        return super().setdefault(key, default)

    def pop(self, key: str, *default):  # type: ignore[no-untyped-def, override]
        self._forget()
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Cell]:
        self._forget()
        return super().popitem()

    def clear(self) -> None:
        super().clear()
        self._forget()


@dataclass(slots=True)
class Opportunity:
    """One row of Opportunities: its sheet row number and raw cells by column key."""

    row: int
    cells: dict[str, Cell]

    def __post_init__(self) -> None:
        if type(self.cells) is not Cells:
            self.cells = Cells(self.cells)

    def text(self, key: str) -> str:
        cells = self.cells
        found = cells.texts.get(key)  # type: ignore[attr-defined]
        if found is None:
            found = cells.texts[key] = v.text(cells.get(key))  # type: ignore[attr-defined]
        return found

    def blank(self, key: str) -> bool:
        return v.is_blank(self.cells.get(key))

    def date(self, key: str) -> date | None:
        cells = self.cells
        found = cells.dates.get(key, _UNREAD)  # type: ignore[attr-defined]
        if found is _UNREAD:
            found = cells.dates[key] = _lenient(v.parse_date, cells.get(key))  # type: ignore[attr-defined]
        return found  # type: ignore[return-value]

    def derived(self, name: object, work: Callable[[Opportunity], R]) -> R:
        """`work(self)`, remembered under `name` until a cell changes (`work` must read only the cells)."""
        memo = self.cells.derived  # type: ignore[attr-defined]
        found = memo.get(name, _UNREAD)
        if found is _UNREAD:
            found = memo[name] = work(self)
        return found  # type: ignore[no-any-return]

    @property
    def id(self) -> str:
        texts = self.cells.texts  # type: ignore[attr-defined]
        found = texts.get("id")
        if found is None:
            found = texts["id"] = v.text(self.cells.get("id"))
        return found  # type: ignore[no-any-return]

    @property
    def owner(self) -> str:
        texts = self.cells.texts  # type: ignore[attr-defined]
        found = texts.get("owner")
        if found is None:
            found = texts["owner"] = v.text(self.cells.get("owner"))
        return found  # type: ignore[no-any-return]

    @property
    def amount(self) -> Decimal | None:
        return self.derived("amount", _amount)


def _amount(opp: Opportunity) -> Decimal | None:
    return _lenient(v.parse_amount, opp.cells.get("amount"))  # type: ignore[no-any-return]


def read_opportunities(hm: HeaderMap, rows: Sequence[Sequence[Cell]]) -> list[Opportunity]:
    """Every non-blank row of Opportunities, known columns by key and other columns by folded header."""
    keys = {i: key for key, i in hm.index.items()}
    for i, header in enumerate(hm.headers):
        keys.setdefault(i, normalize(header))
    in_order = [keys[i] for i in range(len(hm.headers))]  # cells beyond the last header are not read
    return [Opportunity(row_no, Cells(zip(in_order, row, strict=False))) for row_no, row in body_rows(rows)]


def phone_key(phone: object) -> str:
    """A phone number reduced to its last 11 digits, for matching across formats."""
    return _last_digits(v.text(phone))


@lru_cache(maxsize=1 << 16)
def _last_digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())[-11:]
