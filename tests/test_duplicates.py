"""撞单: a new row for a customer someone already has is routed to that owner and flagged, on every store."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import phonenumbers
import pytest
from conftest import NOW, TODAY

from sheetsync.core.duplicates import DuplicateIndex, company_identity, email_identity, phone_identity
from sheetsync.core.intake import CREATE, Submission
from sheetsync.core.model import Opportunity, Pipeline, Stage
from sheetsync.core.schema import FOLLOWUPS, OPPORTUNITIES, column_letter
from sheetsync.sync import Syncer

COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}
FCOL = {c.key: i for i, c in enumerate(FOLLOWUPS.columns)}


@pytest.mark.parametrize("variant", ["13800138000", "+86 138 0013 8000", "0086 138-0013-8000",
                                     "+86-138-0013-8000", "138 0013 8000", "(+86) 13800138000"])
def test_phone_variants_are_one_number(variant):
    assert phone_identity(variant, "CN") == phone_identity("13800138000", "CN") == "+8613800138000"


def test_different_phones_stay_different():
    assert phone_identity("13800138001", "CN") != phone_identity("13800138000", "CN")
    assert phone_identity("", "CN") == ""


def _parsed(raw: str) -> str:
    """What phonenumbers itself says, for comparing phone_identity's shortcut with it."""
    number = phonenumbers.parse(raw, "CN")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) \
        if phonenumbers.is_possible_number(number) else ""


def test_typed_mobiles_read_as_phonenumbers_reads_them():
    rng = random.Random(11)
    for prefix in range(130, 200):
        for _ in range(15):
            digits = f"{prefix}{rng.randrange(10 ** 8):08d}"
            for raw in (digits, f"{digits[:3]} {digits[3:7]} {digits[7:]}", f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                        f"+86{digits}", f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}", f"+86-{digits}"):
                assert phone_identity(raw, "CN") == _parsed(raw), raw


def test_typed_landlines_read_as_phonenumbers_reads_them():
    rng = random.Random(12)
    for area in range(10, 1000, 7):
        for digits in (7, 8):
            subscriber = f"{rng.randrange(10 ** (digits - 1), 10 ** digits)}"
            for raw in (f"0{area}{subscriber}", f"0{area}-{subscriber}", f"0{area} {subscriber}"):
                assert phone_identity(raw, "CN") == _parsed(raw), raw


def test_email_case_does_not_matter():
    assert email_identity(" LiLei@ACME.example ") == email_identity("lilei@acme.example")


@pytest.mark.parametrize(("a", "b"), [
    ("Acme Machinery Co., Ltd.", "ACME MACHINERY"),
    ("Acme Machinery Inc.", "acme machinery"),
    ("深圳市华为技术有限公司", "深圳市华为技术"),
    ("华为技术股份有限公司（北京）", "华为技术有限公司"),
    ("ＡＣＭＥ　Ｍａｃｈｉｎｅｒｙ", "Acme Machinery"),
    ("星辰集团", "星辰"),
])
def test_company_suffixes_brackets_and_width_are_ignored(a, b):
    assert company_identity(a) == company_identity(b) != ""


def _opp(row: int, customer: str, phone: str = "", email: str = "", stage: str = "Lead",
         created: str = "2026-11-01", owner: str = "Alice") -> Opportunity:
    return Opportunity(row, {"id": f"OPP-{row:06d}", "customer": customer, "phone": phone, "email": email,
                             "stage": stage, "created": created, "owner": owner, "stage_since": "2026-11-20"})


PIPELINE = Pipeline.of([Stage("Lead", 1, 0.1, 2, 7, (), False, "open"),
                        Stage("Won", 2, 1, None, None, (), False, "won"),
                        Stage("Lost", 3, 0, None, None, (), False, "lost")])


def _find(rows, new, **kw):
    index = DuplicateIndex([*rows, new], PIPELINE, TODAY, **kw)
    return index.find(new)


def test_a_near_miss_does_not_match():
    old = _opp(2, "Acme Machinery", phone="13800138000", email="li@acme.example")
    near = _opp(3, "Acme Foods", phone="13800138001", email="li@acme-foods.example", created="2026-11-27")
    assert _find([old], near) is None


def test_a_similar_company_name_is_a_weak_signal():
    old = _opp(2, "Shenzhen Brightstar Electronics")
    new = _opp(3, "Shenzen Brightstar Electronics Co", created="2026-11-27")
    match = _find([old], new)
    assert match is not None and match.signal == "similar" and not match.strong


def test_the_oldest_similar_name_wins_among_many_rows_of_every_length():
    rows = [_opp(10 + i, f"Unrelated Trading {i:05d} {'x' * (i % 7)}", created="2026-09-01") for i in range(600)]
    rows.append(_opp(900, "Shenzen Brightstar Electronic", created="2026-10-05"))
    rows.append(_opp(901, "Shenzhen Brightstar Electronics", created="2026-10-02"))  # older, another length
    rows.append(_opp(902, "Shenzhen Brightstar Electronics Ltd", created="2026-11-20"))
    new = _opp(3, "Shenzhen Brightstar Electronic", created="2026-11-27")
    match = _find(rows, new)
    assert match is not None and match.signal == "similar" and match.original.row == 901


def test_the_earlier_deal_is_the_original_not_the_new_one():
    old = _opp(5, "Acme", phone="13800138000", created="2026-10-01")
    new = _opp(2, "Acme", phone="13800138000", created="2026-11-27")
    index = DuplicateIndex([new, old], PIPELINE, TODAY)
    assert index.find(new).original is old
    assert index.find(old) is None


def test_a_closed_deal_protects_its_customer_only_for_the_configured_days():
    won = _opp(2, "Acme", phone="13800138000", stage="Won")  # closed on 2026-11-20, eight days ago
    new = _opp(3, "Acme", phone="13800138000", created="2026-11-27")
    assert _find([won], new) is None
    assert _find([won], new, protect_days=10).signal == "phone"
    assert _find([won], new, protect_days=7) is None


# Whole cycles on every store -----------------------------------------------------------------------------


def a1(key: str, row: int) -> str:
    return f"{column_letter(COL[key])}{row}"


def opp_rows(kit) -> list[list[object]]:
    return [r for r in kit.values("Opportunities")[1:] if any(c not in (None, "") for c in r)]


def by_customer(kit, customer: str) -> list[list[object]]:
    return [r for r in opp_rows(kit) if r[COL["customer"]] == customer]


def type_row(kit, row: int, **cells: str) -> None:
    for key, value in cells.items():
        kit.edit("Opportunities", a1(key, row), value)


def test_a_typed_lead_for_an_open_customer_goes_to_its_owner(syncer, kit):
    syncer.run_cycle()
    acme = by_customer(kit, "Acme Machinery")[0]
    assert acme[COL["owner"]] == "Alice Chen"
    # Bob's East pool would take this row by the rules; the phone says it is Alice's customer.
    type_row(kit, 20, customer="ACME Machinery Co., Ltd.", contact="Wang Wei", phone="+86 138-0013-8000",
             region="East", level="B")
    Syncer(kit.store, syncer.config, syncer.state, clock=lambda: NOW + timedelta(hours=1)).run_cycle()
    new = by_customer(kit, "ACME Machinery Co., Ltd.")[0]
    assert new[COL["owner"]] == "Alice Chen"
    assert new[COL["assigned_by"]] == f"Same customer as {acme[COL['id']]}: routed to its owner"
    assert new[COL["status"]] == f"Possible duplicate of {acme[COL['id']]} (same phone)"
    assert by_customer(kit, "Acme Machinery")[0][COL["status"]].startswith("Missing Amount (required from Quote)")


@pytest.mark.parametrize(("cells", "signal"), [
    ({"email": "LILEI@Acme.Example"}, "email"),
    ({"phone": "0086 13800138000"}, "phone"),
    ({"phone": "13911110000"}, "company name"),
])
def test_each_strong_signal_routes(syncer, kit, cells, signal):
    syncer.run_cycle()
    acme_id = by_customer(kit, "Acme Machinery")[0][COL["id"]]
    customer = "Acme Machinery Inc." if signal == "company name" else "Someone Else Ltd"
    type_row(kit, 20, customer=customer, contact="Wang Wei", region="North", **cells)
    Syncer(kit.store, syncer.config, syncer.state, clock=lambda: NOW + timedelta(hours=1)).run_cycle()
    new = by_customer(kit, customer)[0]
    assert new[COL["status"]] == f"Possible duplicate of {acme_id} (same {signal})"
    assert new[COL["owner"]] == "Alice Chen"


def test_a_near_miss_gets_the_rules_and_no_flag(syncer, kit):
    syncer.run_cycle()
    type_row(kit, 20, customer="Acme Foods", contact="Wang Wei", phone="13800138001", region="North",
             email="wang@acmefoods.example")
    Syncer(kit.store, syncer.config, syncer.state, clock=lambda: NOW + timedelta(hours=1)).run_cycle()
    new = by_customer(kit, "Acme Foods")[0]
    assert new[COL["status"]] == "OK"
    assert new[COL["assigned_by"]] == "North and South pool"


def lead(key: str, opp_id: str, **fields: str) -> Submission:
    return Submission(key, CREATE, opp_id, fields, datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc), "generic")


def test_a_form_lead_for_an_open_customer_is_flagged_and_routed(syncer, kit):
    syncer.run_cycle()
    acme_id = by_customer(kit, "Acme Machinery")[0][COL["id"]]
    syncer.flush([lead("k1", "OPP-NEW001", customer="Acme Machinery", contact="Wang Wei",
                       phone="+86 138 0013 8000", region="East")], NOW)
    new = [r for r in opp_rows(kit) if r[COL["id"]] == "OPP-NEW001"][0]
    assert new[COL["owner"]] == "Alice Chen"
    assert new[COL["status"]] == f"Possible duplicate of {acme_id} (same phone)"


def test_merge_mode_appends_a_follow_up_note_instead_of_a_row(syncer, kit):
    syncer.run_cycle()
    merging = Syncer(kit.store, syncer.config.with_values(duplicates="merge"), syncer.state, clock=lambda: NOW)
    acme_id = by_customer(kit, "Acme Machinery")[0][COL["id"]]
    before = len(opp_rows(kit))
    sub = lead("k1", "OPP-NEW001", customer="Acme Machinery", contact="Wang Wei", phone="13800138000",
               need="Now also want spare parts")
    result = merging.flush([sub], NOW)
    assert result.landed == ["k1"]
    assert len(opp_rows(kit)) == before
    note = kit.values("Follow-ups")[-1]
    assert note[FCOL["opportunity_id"]] == acme_id
    assert note[FCOL["channel"]] == "Form"
    assert note[FCOL["summary"]] == ("Form re-submission (generic): Contact: Wang Wei; Phone: 13800138000; "
                                     "Need: Now also want spare parts")
    assert merging.flush([sub], NOW).already == ["k1"]  # a retry after a crash adds nothing


def test_merge_mode_still_lands_a_new_customer(syncer, kit):
    merging = Syncer(kit.store, syncer.config.with_values(duplicates="merge"), syncer.state, clock=lambda: NOW)
    merging.flush([lead("k1", "OPP-NEW001", customer="Brand New Ltd", contact="Wu", phone="13700000000")], NOW)
    assert [r[COL["status"]] for r in opp_rows(kit) if r[COL["id"]] == "OPP-NEW001"] == ["OK"]
