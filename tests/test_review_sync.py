"""Review across several syncs with people editing in between, on every store: History and days in stage."""

from __future__ import annotations

from datetime import timedelta

from conftest import NOW
from test_sync import COL, a1, by_customer, cell

from sheetsync.sync import Syncer


def _row_of(kit, customer: str) -> int:
    return next(i for i, r in enumerate(kit.values("Opportunities"), start=1) if cell(r, "customer") == customer)


def _at(kit, config, state, days: int) -> Syncer:
    return Syncer(kit.store, config, state, clock=lambda: NOW + timedelta(days=days))


def _history(kit, opp_id: str) -> list[tuple[object, ...]]:
    return [tuple("" if c is None else c for c in r[2:6]) for r in kit.values("History")[1:] if r and r[1] == opp_id]


def test_history_rows_per_change_and_days_in_stage_across_a_move_back_and_forth(syncer, kit, config):
    syncer.run_cycle()
    pearl = _row_of(kit, "Pearl Software")
    pearl_id = cell(by_customer(kit)["Pearl Software"], "id")
    assert cell(by_customer(kit)["Pearl Software"], "days_in_stage") == 0

    # Day 2: a person moves the deal on, types an amount and edits a custom-free column twice (one net change).
    kit.edit("Opportunities", a1("stage", pearl), "Qualified")
    kit.edit("Opportunities", a1("amount", pearl), 20000)
    kit.edit("Opportunities", a1("next_step", pearl), "Call CTO")
    kit.edit("Opportunities", a1("next_step", pearl), "Send demo link")
    _at(kit, config, syncer.state, 2).run_cycle()
    row = by_customer(kit)["Pearl Software"]
    assert cell(row, "days_in_stage") == 0

    # Day 5: nobody touched it; the column keeps counting.
    _at(kit, config, syncer.state, 5).run_cycle()
    assert cell(by_customer(kit)["Pearl Software"], "days_in_stage") == 3

    # Day 6: moved back to Lead, day 9: forward again.
    kit.edit("Opportunities", a1("stage", pearl), "Lead")
    _at(kit, config, syncer.state, 6).run_cycle()
    _at(kit, config, syncer.state, 8).run_cycle()
    assert cell(by_customer(kit)["Pearl Software"], "days_in_stage") == 2
    kit.edit("Opportunities", a1("stage", pearl), "Qualified")
    _at(kit, config, syncer.state, 9).run_cycle()
    assert cell(by_customer(kit)["Pearl Software"], "days_in_stage") == 0

    rows = _history(kit, pearl_id)
    assert ("Stage", "Lead", "Qualified", "sheet edit") in rows
    assert ("Amount", "", "20000", "sheet edit") in rows
    assert ("Next step", "", "Send demo link", "sheet edit") in rows
    assert [r for r in rows if r[0] == "Stage"] == [("Stage", "Lead", "Qualified", "sheet edit"),
                                                   ("Stage", "Qualified", "Lead", "sheet edit"),
                                                   ("Stage", "Lead", "Qualified", "sheet edit")]
    times = [r[0] for r in kit.values("History")[1:] if r and r[1] == pearl_id and r[2] == "Stage"]
    assert [t.date() for t in times] == [(NOW + timedelta(days=d)).date() for d in (2, 6, 9)]


def test_a_deleted_row_is_logged_once_with_its_last_values(syncer, kit, config):
    syncer.run_cycle()
    harbor = _row_of(kit, "Harbor Logistics")
    harbor_id = cell(by_customer(kit)["Harbor Logistics"], "id")
    width = len(kit.values("Opportunities")[0])
    for col in range(width):
        kit.edit("Opportunities", f"{_letter(col)}{harbor}", None)
    for days in (1, 2):
        _at(kit, config, syncer.state, days).run_cycle()
    rows = _history(kit, harbor_id)
    assert len(rows) == 2 and rows[0][0] == "Created"
    field, old, new, by = rows[1]
    assert (field, new, by) == ("Deleted", "", "sheet edit")
    assert "Customer: Harbor Logistics" in old and "Owner: Bob Wang" in old and "Stage: Lost" in old


def _letter(col: int) -> str:
    from sheetsync.core.schema import column_letter
    return column_letter(col)


def test_owner_filled_by_the_rules_is_not_a_history_change_but_a_retyped_owner_is(syncer, kit, config):
    syncer.run_cycle()
    acme = _row_of(kit, "Acme Machinery")
    acme_id = cell(by_customer(kit)["Acme Machinery"], "id")
    kit.edit("Opportunities", a1("owner", acme), "Bob Wang")
    _at(kit, config, syncer.state, 1).run_cycle()
    assert _history(kit, acme_id) == [("Created", "", "Acme Machinery", "sheet edit"),
                                      ("Owner", "Alice Chen", "Bob Wang", "sheet edit")]
    assert COL["days_in_stage"] > COL["updated"]
