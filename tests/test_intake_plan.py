"""Landing queued submissions: once each, in one write, owners assigned, follow-ups logged."""

from __future__ import annotations

from datetime import datetime, timezone

from conftest import NOW

from sheetsync.core.intake import CREATE, FOLLOWUP, UPDATE, Submission
from sheetsync.core.schema import FOLLOWUPS, OPPORTUNITIES

COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}
FCOL = {c.key: i for i, c in enumerate(FOLLOWUPS.columns)}
RECEIVED = datetime(2026, 11, 28, 8, 0, 5, 123456, tzinfo=timezone.utc)


def lead(key: str, opp_id: str, **fields: str) -> Submission:
    base = {"customer": "Sunrise Bakery", "contact": "Mia", "phone": "13811112222", "region": "East"}
    return Submission(key, CREATE, opp_id, {**base, **fields}, RECEIVED, "generic")


def rows_by_id(kit) -> dict[str, list[object]]:
    return {r[0]: r for r in kit.values("Opportunities")[1:] if r and r[0]}


def count_writes(monkeypatch, kit) -> list[int]:
    calls: list[int] = []
    real = kit.store.write

    def write(snapshot, batch):
        calls.append(1)
        return real(snapshot, batch)

    monkeypatch.setattr(kit.store, "write", write)
    return calls


def test_a_new_lead_lands_with_its_id_owner_and_status(syncer, kit):
    result = syncer.flush([lead("k1", "OPP-AAAAAA")], NOW)
    assert result.landed == ["k1"]
    row = rows_by_id(kit)["OPP-AAAAAA"]
    assert row[COL["customer"]] == "Sunrise Bakery"
    assert row[COL["created"]] == datetime(2026, 11, 28, 8, 0, 5)
    assert row[COL["owner"]] in ("Alice Chen", "Bob Wang")
    assert row[COL["assigned_by"]] == "East region pool"
    assert row[COL["stage"]] == "Lead"
    assert row[COL["status"]] == "OK"
    history = [r for r in kit.values("History")[1:] if r and r[1] == "OPP-AAAAAA"]
    assert [(h[2], h[4], h[5]) for h in history] == [("Created", "Sunrise Bakery", "form (generic)")]


def test_a_submission_flushed_twice_lands_once(syncer, kit):
    syncer.flush([lead("k1", "OPP-AAAAAA")], NOW)
    again = syncer.flush([lead("k1", "OPP-AAAAAA")], NOW)
    assert (again.landed, again.already) == ([], ["k1"])
    ids = [r[0] for r in kit.values("Opportunities")[1:] if r and r[0] == "OPP-AAAAAA"]
    assert ids == ["OPP-AAAAAA"]


def test_a_lead_whose_random_id_another_row_already_has_lands_under_another_id(syncer, kit):
    syncer.flush([lead("k0", "OPP-AAAAAA", customer="Other Co")], NOW)
    later = Submission("k1", CREATE, "OPP-AAAAAA", {"customer": "Sunrise Bakery", "phone": "13811113333"},
                       datetime(2026, 11, 28, 9, 0, 7, tzinfo=timezone.utc), "generic")
    first = syncer.flush([later], NOW)
    again = syncer.flush([later], NOW)  # a retried flush finds the row it wrote
    assert first.landed == ["k1"] and (again.landed, again.already) == ([], ["k1"])
    rows = rows_by_id(kit)
    assert rows["OPP-AAAAAA"][COL["customer"]] == "Other Co"
    mine = [i for i, r in rows.items() if r[COL["customer"]] == "Sunrise Bakery"]
    assert len(mine) == 1 and mine[0] != "OPP-AAAAAA" and mine[0].startswith("OPP-")


def test_many_submissions_are_one_write(monkeypatch, syncer, kit):
    writes = count_writes(monkeypatch, kit)
    subs = [lead(f"k{i}", f"OPP-B{i:05d}", customer=f"Shop {i}") for i in range(50)]
    result = syncer.flush(subs, NOW)
    assert len(result.landed) == 50
    assert len(writes) == 1
    assert len([i for i in rows_by_id(kit) if i.startswith("OPP-B")]) == 50


def test_an_update_changes_the_same_opportunity_but_never_its_owner(syncer, kit):
    syncer.flush([lead("k1", "OPP-AAAAAA")], NOW)
    update = Submission("k2", UPDATE, "OPP-AAAAAA", {"need": "Two ovens", "owner": "Mallory"}, RECEIVED, "jiandaoyun")
    assert syncer.flush([update], NOW).landed == ["k2"]
    row = rows_by_id(kit)["OPP-AAAAAA"]
    assert row[COL["need"]] == "Two ovens"
    assert row[COL["owner"]] != "Mallory"


def test_an_update_for_a_lead_not_yet_in_the_sheet_waits(syncer, kit):
    update = Submission("k2", UPDATE, "OPP-ZZZZZZ", {"need": "x"}, RECEIVED, "jiandaoyun")
    result = syncer.flush([update], NOW)
    assert result.landed == []
    assert "not in the sheet yet" in result.rejected["k2"]


def test_create_and_update_in_one_batch_become_one_row(syncer, kit):
    update = Submission("k2", UPDATE, "OPP-AAAAAA", {"need": "Updated need"}, RECEIVED, "jiandaoyun")
    result = syncer.flush([lead("k1", "OPP-AAAAAA", need="First need"), update], NOW)
    assert sorted(result.landed) == ["k1", "k2"]
    assert rows_by_id(kit)["OPP-AAAAAA"][COL["need"]] == "Updated need"


def test_a_follow_up_is_logged_once_and_moves_the_opportunity_forward(syncer, kit):
    syncer.flush([lead("k1", "OPP-AAAAAA")], NOW)
    visit = Submission("f1", FOLLOWUP, "OPP-AAAAAA", {"channel": "Visit", "summary": "Tasted samples",
                                                      "next_follow_up": "2026-12-03"}, RECEIVED, "followup")
    assert syncer.flush([visit], NOW).landed == ["f1"]
    assert syncer.flush([visit], NOW).already == ["f1"]
    logged = [r for r in kit.values("Follow-ups")[1:] if r and len(r) > FCOL["ref"] and r[FCOL["ref"]] == "f1"]
    assert len(logged) == 1
    assert logged[0][FCOL["opportunity_id"]] == "OPP-AAAAAA"
    assert logged[0][FCOL["customer"]] == "Sunrise Bakery"
    row = rows_by_id(kit)["OPP-AAAAAA"]
    assert row[COL["last_contact"]] == datetime(2026, 11, 28)
    assert row[COL["next_follow_up"]] == datetime(2026, 12, 3)


def test_a_follow_up_in_the_same_batch_as_its_lead_moves_the_lead_forward(syncer, kit):
    visit = Submission("f1", FOLLOWUP, "OPP-AAAAAA", {"channel": "Visit", "summary": "Tasted samples",
                                                      "next_follow_up": "2026-12-03"}, RECEIVED, "followup")
    call = Submission("f2", FOLLOWUP, "", {"phone": "13811112222", "summary": "Called back", "date": "2026-11-28"},
                      RECEIVED, "followup")
    # the follow-ups arrive first in the batch: they still find the lead planned beside them
    result = syncer.flush([visit, call, lead("k1", "OPP-AAAAAA")], NOW)
    assert sorted(result.landed) == ["f1", "f2", "k1"]
    row = rows_by_id(kit)["OPP-AAAAAA"]
    assert row[COL["last_contact"]] == datetime(2026, 11, 28)
    assert row[COL["next_follow_up"]] == datetime(2026, 12, 3)
    logged = {r[FCOL["ref"]]: r for r in kit.values("Follow-ups")[1:] if r and len(r) > FCOL["ref"]}
    assert logged["f1"][FCOL["next_follow_up"]] == datetime(2026, 12, 3)  # a date, not the text "2026-12-03"
    assert logged["f2"][FCOL["opportunity_id"]] == "OPP-AAAAAA"


def test_a_follow_up_finds_its_opportunity_by_phone(syncer, kit):
    syncer.flush([lead("k1", "OPP-AAAAAA")], NOW)
    call = Submission("f1", FOLLOWUP, "", {"phone": "+86 138 1111 2222", "summary": "Called back"}, RECEIVED,
                      "followup")
    syncer.flush([call], NOW)
    logged = [r for r in kit.values("Follow-ups")[1:] if r and len(r) > FCOL["ref"] and r[FCOL["ref"]] == "f1"]
    assert logged[0][FCOL["opportunity_id"]] == "OPP-AAAAAA"


def test_form_values_never_become_formulas_or_system_columns(syncer, kit):
    evil = lead("k1", "OPP-AAAAAA", customer="=IMPORTXML(\"http://x\")", status="Approved by hacker")
    syncer.flush([evil], NOW)
    row = rows_by_id(kit)["OPP-AAAAAA"]
    assert row[COL["customer"]] == "=IMPORTXML(\"http://x\")"
    assert row[COL["status"]] == "OK"
