"""Read from a written batch who was just given which lead, and from the Team tab how to reach them (pure).

Whatever made the assignment — the Rules at intake or sync, a handover, a reclaim from the pool — it
reaches the sheet as an Owner cell in a write batch, so that is where new owners are found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..core import values as v
from ..core.model import Rep
from ..core.schema import OPPORTUNITIES, TEAM, LayoutError, map_headers, normalize
from ..stores.base import Snapshot, WriteBatch
from .channels import Contact


@dataclass(frozen=True)
class AssignedLead:
    """An opportunity a write gave to a (new) owner, with what the owner needs to call."""

    id: str
    owner: str
    customer: str
    need: str
    phone: str
    contact: str
    rule: str
    previous_owner: str = ""


def assigned_leads(snapshot: Snapshot, batch: WriteBatch) -> list[AssignedLead]:
    """Every opportunity whose Owner the batch sets to a new, non-blank name (appended rows included)."""
    data = snapshot.tabs.get("opportunities")
    if data is None or not data.rows:
        return []
    try:
        hm = map_headers(OPPORTUNITIES, data.title, data.rows[0], required=())
    except LayoutError:
        return []
    if "owner" not in hm.index:
        return []
    owner_col = hm.index["owner"]
    writes: dict[int, dict[int, object]] = {}
    for cell in batch.cells:
        if cell.tab == "opportunities":
            writes.setdefault(cell.row, {})[cell.col] = cell.value

    def lead(row: Mapping[int, object], previous: object) -> AssignedLead:
        def get(key: str) -> str:
            return v.text(row.get(hm.index[key])) if key in hm.index else ""
        return AssignedLead(get("id"), get("owner"), get("customer"), get("need"), get("phone"), get("contact"),
                            get("assigned_by"), v.text(previous))

    found: list[AssignedLead] = []
    for row_no, changed in sorted(writes.items()):
        if owner_col not in changed or v.is_blank(changed[owner_col]):
            continue
        before = data.cell(row_no, owner_col)
        if normalize(before) == normalize(changed[owner_col]):
            continue
        current = {i: cell for i, cell in enumerate(data.rows[row_no - 1])} if row_no - 1 < len(data.rows) else {}
        found.append(lead({**current, **changed}, before))
    for appended in batch.appends.get("opportunities", []):
        cells = dict(enumerate(appended))
        if not v.is_blank(cells.get(owner_col)):
            found.append(lead(cells, None))
    return found


def team_contacts(snapshot: Snapshot) -> dict[str, Contact]:
    """Team members' contact cells by folded name; empty when the Team tab is absent or unreadable."""
    data = snapshot.tabs.get("team")
    if data is None or not data.rows:
        return {}
    try:
        hm = map_headers(TEAM, data.title, data.rows[0], required=())
    except LayoutError:
        return {}
    people: dict[str, Contact] = {}
    for row in data.rows[1:]:
        name = v.text(hm.get(row, "name"))
        if name:
            people.setdefault(normalize(name), Contact(name, v.text(hm.get(row, "im")),
                                                       v.text(hm.get(row, "email"))))
    return people


def contacts_of(team: Iterable[Rep]) -> dict[str, Contact]:
    """Contacts by folded name from parsed Team rows."""
    people: dict[str, Contact] = {}
    for rep in team:
        people.setdefault(normalize(rep.name), Contact(rep.name, rep.im, rep.email))
    return people
