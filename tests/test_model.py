"""An opportunity row reads each cell once per cycle, and never answers with a value it no longer holds."""

from __future__ import annotations

from datetime import date

import pytest

from sheetsync.core.model import Opportunity


@pytest.mark.parametrize("change", [
    lambda c: c.__setitem__("id", "OPP-2"),
    lambda c: c.update(id="OPP-2"),
    lambda c: c.update({"id": "OPP-2"}),
    lambda c: c.__ior__({"id": "OPP-2"}),
    lambda c: (c.pop("id"), c.setdefault("id", "OPP-2")),
    lambda c: (c.__delitem__("id"), c.__setitem__("id", "OPP-2")),
    lambda c: (c.clear(), c.update(id="OPP-2", created="2026-11-02")),
])
def test_what_a_row_says_follows_every_change_of_its_cells(change):
    opp = Opportunity(2, {"id": " OPP-1 ", "created": "2026-11-01"})
    assert (opp.id, opp.date("created"), opp.derived("upper", lambda o: o.id.upper())) == \
        ("OPP-1", date(2026, 11, 1), "OPP-1")
    change(opp.cells)
    assert opp.id == "OPP-2"
    assert opp.derived("upper", lambda o: o.id.lower()) == "opp-2"
    assert opp.date("created") == (date(2026, 11, 2) if "created" in opp.cells and opp.cells["created"] ==
                                   "2026-11-02" else date(2026, 11, 1))


def test_a_row_built_from_a_plain_dict_reads_like_one():
    opp = Opportunity(3, {"owner": " Alice ", "amount": "¥1,200", "next_follow_up": "not a date"})
    assert opp.owner == "Alice" and opp.text("missing") == "" and opp.blank("missing")
    assert opp.amount == 1200 and opp.date("next_follow_up") is None
    assert opp.cells == {"owner": " Alice ", "amount": "¥1,200", "next_follow_up": "not a date"}
