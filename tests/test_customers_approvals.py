"""Won deals reach the Customers tab once; gated stages wait for the manager; skipped gates stay flagged."""

from __future__ import annotations

from datetime import datetime, timedelta

from conftest import NOW, deal, filled_rows

from sheetsync.core.schema import CUSTOMERS, OPPORTUNITIES, column_letter
from sheetsync.sync import Syncer

COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}
CCOL = {c.key: i for i, c in enumerate(CUSTOMERS.columns)}




def edit(kit, customer: str, key: str, value: object) -> None:
    row, _ = deal(kit, customer)
    kit.edit("Opportunities", f"{column_letter(COL[key])}{row}", value)


def cycle(syncer: Syncer, hours: float) -> None:
    Syncer(syncer.store, syncer.config, syncer.state, clock=lambda: NOW + timedelta(hours=hours)).run_cycle()


def cell(row: list[object], key: str) -> object:
    return row[CCOL[key]] if CCOL[key] < len(row) else None


def test_a_won_deal_is_copied_once_and_kept_up_to_date(syncer, kit):
    syncer.run_cycle()
    customers = filled_rows(kit, "Customers")
    assert len(customers) == 1
    tea = customers[0]
    opp_id = deal(kit, "Golden Tea House")[1][COL["id"]]
    assert [cell(tea, k) for k in ("customer", "contact", "phone", "owner", "id", "service_owner", "status")] == [
        "Golden Tea House", "Chen Jie", "13912345678", "Alice Chen", opp_id, "Fiona Xu", "Won"]
    assert float(str(cell(tea, "amount"))) == 88000
    assert isinstance(cell(tea, "won_date"), datetime)

    cycle(syncer, 1)
    assert len(filled_rows(kit, "Customers")) == 1  # a second sync adds nothing
    edit(kit, "Golden Tea House", "amount", 90000)
    edit(kit, "Golden Tea House", "contact", "Chen Jie (CFO)")
    cycle(syncer, 2)
    customers = filled_rows(kit, "Customers")
    assert len(customers) == 1
    assert float(str(cell(customers[0], "amount"))) == 90000
    assert cell(customers[0], "contact") == "Chen Jie (CFO)"


def test_a_service_owner_typed_by_a_person_is_kept(syncer, kit):
    syncer.run_cycle()
    kit.edit("Customers", f"{column_letter(CCOL['service_owner'])}2", "Henry Sun")
    edit(kit, "Golden Tea House", "amount", 91000)
    cycle(syncer, 1)
    assert cell(filled_rows(kit, "Customers")[0], "service_owner") == "Henry Sun"


def test_reopening_a_won_deal_flags_its_customer_row_and_never_deletes_it(syncer, kit):
    syncer.run_cycle()
    edit(kit, "Golden Tea House", "stage", "Negotiation")
    cycle(syncer, 1)
    customers = filled_rows(kit, "Customers")
    assert len(customers) == 1
    assert cell(customers[0], "status") == "Re-opened: the deal is back in Negotiation (row kept)"
    assert "Re-opened after Won: its Customers row is kept and flagged" in deal(kit, "Golden Tea House")[1][
        COL["status"]]
    edit(kit, "Golden Tea House", "stage", "Won")
    cycle(syncer, 2)
    customers = filled_rows(kit, "Customers")
    assert len(customers) == 1 and cell(customers[0], "status") == "Won"


def test_a_second_won_deal_gets_its_own_row(syncer, kit):
    syncer.run_cycle()
    edit(kit, "Northwind Foods", "stage", "Won")
    cycle(syncer, 1)
    assert sorted(cell(r, "customer") for r in filled_rows(kit, "Customers")) == ["Golden Tea House", "Northwind Foods"]


def test_a_gated_stage_waits_for_the_owners_manager(syncer, kit):
    syncer.run_cycle()
    acme = deal(kit, "Acme Machinery")[1]
    assert acme[COL["status"]].endswith("Awaiting approval (Grace Li)")
    asks = [r for r in filled_rows(kit, "Reminders") if r[2] == acme[COL["id"]] and r[1] == "Grace Li"]
    assert [r[5] for r in asks] == [
        "Approve this deal for Quote (owner Alice Chen): write Approved or Rejected in Approval"]

    edit(kit, "Acme Machinery", "approval", "Approved by Grace Li")
    cycle(syncer, 1)
    acme = deal(kit, "Acme Machinery")[1]
    assert "Awaiting approval" not in acme[COL["status"]]
    assert not [r for r in filled_rows(kit, "Reminders") if r[2] == acme[COL["id"]] and r[1] == "Grace Li"]
    logged = [r for r in filled_rows(kit, "History") if r[1] == acme[COL["id"]] and r[2] == "Approval"]
    assert [(h[3] or "", h[4]) for h in logged] == [("", "Approved by Grace Li")]  # as typed


def test_a_skipped_gate_is_flagged_stays_flagged_and_is_never_reverted(syncer, kit):
    syncer.run_cycle()
    edit(kit, "Blue Sky Retail", "stage", "Negotiation")  # Qualified -> Negotiation, past Quote
    cycle(syncer, 1)
    flag = "Moved past Quote without approval: ask Grace Li to approve it in Approval"
    blue = deal(kit, "Blue Sky Retail")[1]
    assert flag in blue[COL["status"]]
    assert blue[COL["stage"]] == "Negotiation"
    cycle(syncer, 2)  # the next cycle sees no move, yet the flag stays
    assert flag in deal(kit, "Blue Sky Retail")[1][COL["status"]]
    edit(kit, "Blue Sky Retail", "approval", "同意")
    cycle(syncer, 3)
    blue = deal(kit, "Blue Sky Retail")[1]
    assert flag not in blue[COL["status"]] and blue[COL["stage"]] == "Negotiation"
