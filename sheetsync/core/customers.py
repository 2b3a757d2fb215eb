"""成交转服务: every won opportunity has exactly one row on the Customers tab, kept up to date by its ID.

A deal reaching a won stage is copied once (customer, contact, phone, email, sales owner, amount, won
date, opportunity ID) with a service owner from the Team's service people (fewest customers first).
Later edits of the deal update that row; the service owner is filled only while blank, so a manager's
choice stays. A deal that leaves the won stage is flagged on its row (and in its Status), never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from ..messages import say
from ..ports import Cell, CellWrite, Guard
from . import values as v
from .model import WON, Opportunity, Pipeline, Rep, body_rows, is_service
from .schema import normalize
from .workbook import Workbook

COPIED = ("customer", "contact", "phone", "email", "owner", "amount", "won_date", "id")
"""Columns a Customers row takes from its opportunity, rewritten when the deal changes."""


@dataclass
class CustomerPlan:
    """Cell updates and new rows for the Customers tab, and Status notes for re-opened deals."""

    cells: list[CellWrite] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)
    appends: list[list[Cell]] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)
    copied: int = 0


def _amount(opp: Opportunity) -> Cell:
    amount = opp.amount
    if amount is None:
        return opp.text("amount") or None
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _service_owner(team: Sequence[Rep], load: dict[str, int]) -> str:
    """The active service person with the fewest customers (team order breaks ties); '' when there is none."""
    people = [r for r in team if is_service(r) and r.active]
    if not people:
        return ""
    chosen = min(people, key=lambda r: load.get(normalize(r.name), 0))
    load[normalize(chosen.name)] = load.get(normalize(chosen.name), 0) + 1
    return chosen.name


def plan_customers(wb: Workbook, stage_since: Mapping[int, date | None], today: date) -> CustomerPlan:
    """Plan the Customers tab for this cycle: one row per won deal, updated in place, re-openings flagged."""
    plan = CustomerPlan()
    data = wb.customers
    if data is None or "customers" not in wb.maps:
        return plan
    hm = wb.maps["customers"]
    rows: dict[str, tuple[int, Sequence[Cell]]] = {}
    load: dict[str, int] = {}
    for row_no, row in body_rows(data.rows):
        ident = v.text(hm.get(row, "id"))
        if ident and ident not in rows:
            rows[ident] = (row_no, row)
        service = normalize(hm.get(row, "service_owner"))
        if service:
            load[service] = load.get(service, 0) + 1
    language = wb.language
    pipeline: Pipeline = wb.pipeline
    done: set[str] = set()
    for opp in wb.opportunities:
        if not opp.id or opp.id in done:
            continue
        done.add(opp.id)
        stage = pipeline.find(opp.cells.get("stage"))
        won = stage is not None and stage.outcome == WON
        if not won and opp.id not in rows:
            continue
        wanted: dict[str, Cell] = {
            "customer": opp.text("customer"), "contact": opp.text("contact"), "phone": opp.text("phone"),
            "email": opp.text("email"), "owner": opp.owner, "amount": _amount(opp),
            "won_date": stage_since.get(opp.row) or today, "id": opp.id,
        }
        if opp.id in rows:
            row_no, row = rows[opp.id]
            if won:
                status = say("discipline.customer_won", language)
                updates = {k: wanted[k] for k in COPIED if k in hm.index}
            else:
                stage_name = stage.name if stage is not None else opp.text("stage")
                status = say("discipline.customer_reopened", language, stage=stage_name)
                plan.notes[opp.row] = say("discipline.deal_reopened", language)
                updates = {}
            updates["status"] = status
            if won and "service_owner" in hm.index and v.is_blank(hm.get(row, "service_owner")):
                service = _service_owner(wb.team, load)
                if service:
                    updates["service_owner"] = service
            _update(plan, hm.index, row_no, row, updates)
        elif won:
            wanted["service_owner"] = _service_owner(wb.team, load) or None
            wanted["status"] = say("discipline.customer_won", language)
            plan.appends.append(wb.row_of("customers", wanted))
            plan.copied += 1
    return plan


def _update(plan: CustomerPlan, index: Mapping[str, int], row_no: int, row: Sequence[Cell],
            updates: Mapping[str, Cell]) -> None:
    changed = False
    for key, value in updates.items():
        col = index.get(key)
        if col is None:
            continue
        current = row[col] if col < len(row) else None
        if v.text(current) == v.text(value):
            continue
        if key == "service_owner":  # a fill: a person typing a service owner meanwhile wins
            plan.guards.append(Guard("customers", row_no, col, current))
        plan.cells.append(CellWrite("customers", row_no, col, value))
        changed = True
    if changed:
        plan.guards.append(Guard("customers", row_no, index["id"], row[index["id"]]))
