"""离职交接 and 公海 reclaim through whole sync cycles, on every store."""

from __future__ import annotations

from datetime import datetime, timedelta

import openpyxl
import pytest
from conftest import NOW, deal, filled_rows

from sheetsync.cli import main
from sheetsync.core.handover import HandoverError
from sheetsync.core.schema import FOLLOWUPS, OPPORTUNITIES, STAGES, TEAM, column_letter
from sheetsync.sync import Syncer

COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}
TCOL = {c.key: i for i, c in enumerate(TEAM.columns)}
FCOL = {c.key: i for i, c in enumerate(FOLLOWUPS.columns)}
SCOL = {c.key: i for i, c in enumerate(STAGES.columns)}




def team_row(kit, name: str) -> int:
    return next(n for n, r in enumerate(kit.values("Team"), start=1) if r and r[0] == name)


def at(syncer: Syncer, days: float) -> Syncer:
    return Syncer(syncer.store, syncer.config, syncer.state, clock=lambda: NOW + timedelta(days=days))


def give(kit, customer: str, owner: str) -> None:
    row, _ = deal(kit, customer)
    kit.edit("Opportunities", f"{column_letter(COL['owner'])}{row}", owner)


def reminders_for(kit, owner: str) -> list[str]:
    return [r[5] for r in filled_rows(kit, "Reminders") if r[1] == owner]


def test_a_rep_set_inactive_hands_open_deals_over_and_keeps_closed_ones(syncer, kit):
    syncer.run_cycle()
    give(kit, "Northwind Foods", "Bob Wang")
    kit.edit("Follow-ups", "A4", datetime(2026, 11, 27))
    kit.edit("Follow-ups", f"{column_letter(FCOL['customer'])}4", "Northwind Foods")
    kit.edit("Follow-ups", f"{column_letter(FCOL['phone'])}4", "+44 20 7946 0958")
    kit.edit("Follow-ups", f"{column_letter(FCOL['summary'])}4", "Legal is reviewing the contract")
    at(syncer, 0.01).run_cycle()
    assert deal(kit, "Northwind Foods")[1][COL["owner"]] == "Bob Wang"

    kit.edit("Team", f"{column_letter(TCOL['active'])}{team_row(kit, 'Bob Wang')}", "No")
    report = at(syncer, 0.02).run_cycle()
    assert report.handed_over == 1
    northwind = deal(kit, "Northwind Foods")[1]
    new_owner = northwind[COL["owner"]]
    assert new_owner not in ("Bob Wang", None)
    assert northwind[COL["assigned_by"]].startswith("Handover from Bob Wang: ")
    assert deal(kit, "Harbor Logistics")[1][COL["owner"]] == "Bob Wang"  # Lost: stays with Bob
    owner_changes = [r for r in filled_rows(kit, "History") if r[1] == northwind[COL["id"]] and r[2] == "Owner"]
    assert [(h[3], h[4], h[5]) for h in owner_changes][-1] == ("Bob Wang", new_owner, "handover from Bob Wang")
    assert reminders_for(kit, new_owner).count(
        "Inherited from Bob Wang (handover); last follow-up 2026-11-27: Legal is reviewing the contract; "
        "next step: Send revised contract") == 1
    assert not [r for r in filled_rows(kit, "Reminders") if r[1] == "Bob Wang" and r[4] != "Lost"]

    at(syncer, 0.03).run_cycle()  # the next cycle moves nothing more and keeps the one reminder
    assert deal(kit, "Northwind Foods")[1][COL["owner"]] == new_owner
    assert sum("Inherited from Bob Wang" in r for r in reminders_for(kit, new_owner)) == 1


def test_handover_to_a_named_rep_and_its_dry_run(syncer, kit):
    syncer.run_cycle()
    before = kit.values("Opportunities")
    plan = at(syncer, 0.01).handover("Alice Chen", "Carol Zhang", dry_run=True)
    assert kit.values("Opportunities") == before  # nothing written
    assert {m.customer for m in plan} == {"Acme Machinery"}
    assert all(m.owner == "Carol Zhang" for m in plan)

    moves = at(syncer, 0.02).handover("Alice Chen", "Carol Zhang")
    assert [m.customer for m in moves] == ["Acme Machinery"]
    assert deal(kit, "Acme Machinery")[1][COL["owner"]] == "Carol Zhang"
    assert deal(kit, "Golden Tea House")[1][COL["owner"]] == "Alice Chen"  # Won: keeps its owner


def test_handover_to_someone_not_on_the_team_is_refused(syncer, kit):
    syncer.run_cycle()
    with pytest.raises(HandoverError, match="'Zed' is not on the Team tab"):
        syncer.handover("Alice Chen", "Zed")


def test_an_untouched_lead_is_reclaimed_once_and_both_reps_are_told(syncer, kit):
    syncer.run_cycle()
    _, pearl = deal(kit, "Pearl Software")
    first_owner = pearl[COL["owner"]]
    blue_sky_owner = deal(kit, "Blue Sky Retail")[1][COL["owner"]]
    at(syncer, 14).run_cycle()  # Lead: reclaim after 14 days; 14 days is not yet "more than"
    assert deal(kit, "Pearl Software")[1][COL["owner"]] == first_owner

    report = at(syncer, 15).run_cycle()
    assert report.reclaimed == 3  # Pearl and the two other example leads nobody followed up (Riverside, Maple)
    pearl = deal(kit, "Pearl Software")[1]
    new_owner = pearl[COL["owner"]]
    assert new_owner not in (first_owner, None)
    assert pearl[COL["assigned_by"]].startswith("Reclaimed to the pool (no follow-up in time): ")
    logged = [r[5] for r in filled_rows(kit, "History") if r[1] == pearl[COL["id"]] and r[2] == "Owner"]
    assert logged[-1] == "reclaimed"
    assert any(text.startswith(f"Reclaimed from {first_owner} (no follow-up in time); no follow-up logged yet")
               for text in reminders_for(kit, new_owner))
    assert f"Reclaimed: no follow-up in time, the deal is now with {new_owner}" in reminders_for(kit, first_owner)
    # Blue Sky sits in Qualified, whose Reclaim column is blank: never reclaimed however long it waits.
    assert deal(kit, "Blue Sky Retail")[1][COL["owner"]] == blue_sky_owner

    at(syncer, 16).run_cycle()  # the clock restarted at the reclaim
    assert deal(kit, "Pearl Software")[1][COL["owner"]] == new_owner


def test_reclaim_to_a_pool_owner_from_config(syncer, kit):
    syncer.run_cycle()
    pooled = Syncer(kit.store, syncer.config.with_values(reclaim_to="公海"), syncer.state,
                    clock=lambda: NOW + timedelta(days=15))
    pooled.run_cycle()
    assert deal(kit, "Pearl Software")[1][COL["owner"]] == "公海"
    blue_sky = deal(kit, "Blue Sky Retail")[1]
    assert blue_sky[COL["owner"]] != "公海"


def test_handover_cli_dry_run_prints_the_plan_and_writes_nothing(tmp_path, runner):
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert runner.invoke(main, ["sync"]).exit_code == 0
    before = [list(r) for r in openpyxl.load_workbook(tmp_path / "pipeline.xlsx")["Opportunities"].values]
    result = runner.invoke(main, ["handover", "Alice Chen", "--to", "Bob Wang", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run, nothing written: 1 open deal(s) of Alice Chen would move." in result.output
    assert "Acme Machinery: Alice Chen -> Bob Wang (Handover from Alice Chen)" in result.output
    after = [list(r) for r in openpyxl.load_workbook(tmp_path / "pipeline.xlsx")["Opportunities"].values]
    assert after == before
    done = runner.invoke(main, ["handover", "Alice Chen", "--to", "Bob Wang"])
    assert "Handed over 1 open deal(s) of Alice Chen" in done.output
    wrong = runner.invoke(main, ["handover", "Alice Chen", "--to", "Nobody"])
    assert wrong.exit_code != 0 and "'Nobody' is not on the Team tab" in wrong.output
