"""History: one row per field change, with from/to, time and origin; deletions; nothing logged twice."""

from datetime import datetime

from sheetsync.core.history import (
    Entry,
    changes,
    handover_origin,
    reclaim_origin,
    seen_values,
    tracked_keys,
)
from sheetsync.core.model import Opportunity

NOW = datetime(2026, 11, 28, 9, 30)


def opp(row, **cells):
    base = {"id": "OPP-1", "customer": "Acme", "stage": "Lead", "owner": "Alice Chen", "amount": 1000}
    base.update(cells)
    return Opportunity(row, base)


def seen_of(*opps, keys=None):
    keys = keys or tracked_keys(opps)
    return {o.id: seen_values(o, keys) for o in opps}


def test_every_people_column_is_tracked_including_custom_ones():
    keys = tracked_keys([opp(2, budgetowner="x")])
    for key in ("source", "customer", "contact", "phone", "email", "region", "industry", "level", "need", "owner",
                "stage", "amount", "expected_close", "next_follow_up", "next_step", "loss_reason", "approval",
                "budgetowner"):
        assert key in keys
    for key in ("id", "status", "assigned_by", "stage_since", "updated", "days_in_stage", "last_contact"):
        assert key not in keys


def test_exclusions_by_header_name_in_either_language():
    keys = tracked_keys([opp(2)], ["Need", "下一步", "budget owner"])
    assert "need" not in keys and "next_step" not in keys and "stage" in keys


def test_one_row_per_changed_field_with_from_to_time_and_who():
    before = seen_of(opp(2))
    after = opp(2, stage="Quote", amount=5000)
    rows = changes(before, [after], NOW, {}, {}, keys=tracked_keys([after]))
    assert rows == [[NOW, "OPP-1", "Stage", "Lead", "Quote", "sheet edit"],
                    [NOW, "OPP-1", "Amount", "1000", "5000", "sheet edit"]]


def test_several_edits_between_two_syncs_are_one_net_change():
    before = seen_of(opp(2))
    # Lead -> Quote -> Negotiation typed between two syncs: only the net change is visible and logged.
    rows = changes(before, [opp(2, stage="Negotiation")], NOW, {}, {})
    assert [(r[3], r[4]) for r in rows] == [("Lead", "Negotiation")]
    # ...and an edit undone before the next sync leaves no trace.
    assert changes(before, [opp(2)], NOW, {}, {}) == []


def test_values_the_sync_wrote_name_the_sync_and_a_handover_names_the_previous_owner():
    before = seen_of(opp(2, next_follow_up=""), opp(3, id="OPP-2"))
    now = [opp(2, next_follow_up="2026-12-01"), opp(3, id="OPP-2", owner="Bob Wang")]
    written = {2: {"next_follow_up": ""}, 3: {"owner": handover_origin("Alice Chen")}}
    rows = changes(before, now, NOW, written, {})
    assert [r[2:] for r in rows] == [["Next follow-up", "", "2026-12-01", "sync"],
                                     ["Owner", "Alice Chen", "Bob Wang", "handover from Alice Chen"]]
    assert handover_origin("张伟", "zh") == "离职交接（原负责人 张伟）"
    assert reclaim_origin("en") == "reclaimed" and reclaim_origin("zh") == "公海收回"


def test_a_deleted_row_is_recorded_with_its_last_values():
    before = seen_of(opp(2), opp(3, id="OPP-2", customer="Blue Sky", stage="Quote", amount=48000))
    rows = changes(before, [opp(2)], NOW, {}, {"customer": "Customer", "stage": "Stage"})
    assert len(rows) == 1
    time, ident, field, old, new, by = rows[0]
    assert (time, ident, field, new, by) == (NOW, "OPP-2", "Deleted", "", "sheet edit")
    assert "Customer: Blue Sky" in old and "Stage: Quote" in old and "Amount: 48000" in old
    zh = changes(before, [opp(2)], NOW, {}, {}, "zh")[0]
    assert zh[2] == "已删除" and "；" in zh[3] and zh[5] == "表格编辑"


def test_a_change_history_already_records_is_not_logged_twice():
    before = seen_of(opp(2))
    logged = [Entry(NOW, "OPP-1", "Owner", "Alice Chen", "Bob Wang", "handover from Alice Chen")]
    rows = changes(before, [opp(2, owner="Bob Wang", stage="Quote")], NOW, {}, {}, logged=logged)
    assert [r[2] for r in rows] == ["Stage"]


def test_a_column_tracked_for_the_first_time_starts_silently():
    old_state = {"OPP-1": {"stage": "Lead", "_fp": "x"}}  # state saved before Need was tracked
    assert changes(old_state, [opp(2, need="Quote for line 2")], NOW, {}, {}) == []


def test_a_new_row_typed_by_a_person_gets_a_created_row_once_it_has_an_id():
    rows = changes({}, [opp(2)], NOW, {2: {"id": ""}}, {})
    assert rows == [[NOW, "OPP-1", "Created", "", "Acme", "sheet edit"]]
