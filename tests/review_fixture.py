"""A hand-computed review fixture: 30 opportunities, three reps, three sources and 60 days of History.

Day 0 is 2026-09-29 and the review runs on day 60 (Saturday 2026-11-28, 09:30): this month is November
(days 33-60), this quarter starts 2026-10-01 (day 2), this week on Monday 2026-11-23 (day 55).
Each deal is (ID, owner, source, amount, created day, stages with the day each was entered, loss
reason, expected close). The expected Summary rows below were worked out by hand in the comments.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sheetsync.core.history import Entry
from sheetsync.core.model import Opportunity, Pipeline, Rep, Stage

DAY0 = date(2026, 9, 29)
NOW = datetime(2026, 11, 28, 9, 30)
A, B, C = "Alice Chen", "Bob Wang", "Carol Zhang"
WEB, REF, SHOW = "Website", "Referral", "Trade show"


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def _stage(name, order, probability, outcome="open"):
    return Stage(name, order, probability, 3, 14, (), False, outcome)


PIPELINE = Pipeline.of([_stage("Lead", 1, 0.1), _stage("Qualified", 2, 0.3), _stage("Quote", 3, 0.5),
                        _stage("Negotiation", 4, 0.7), _stage("Won", 5, 1.0, "won"), _stage("Lost", 6, 0.0, "lost")])
TEAM = [Rep(A, target=200000), Rep(B, target=100000), Rep(C)]

L, Q, QT, N, W, X = "Lead", "Qualified", "Quote", "Negotiation", "Won", "Lost"
DEALS = [
    # open, still in Lead
    ("A01", A, WEB, 10000, [(50, L)], "", None),
    ("A02", B, WEB, 20000, [(52, L)], "", None),
    ("A03", C, WEB, None, [(54, L)], "", None),
    ("A04", A, REF, 5000, [(56, L)], "", None),
    ("A05", B, REF, 15000, [(58, L)], "", None),
    ("A06", C, SHOW, 30000, [(60, L)], "", None),
    # open, Qualified (Lead stays 4, 6, 2, 8 days)
    ("A07", A, WEB, 40000, [(10, L), (14, Q)], "", date(2026, 12, 15)),
    ("A08", B, REF, 60000, [(20, L), (26, Q)], "", None),
    ("A09", B, SHOW, 20000, [(30, L), (32, Q)], "", date(2026, 11, 10)),
    ("A10", C, SHOW, 80000, [(40, L), (48, Q)], "", date(2027, 1, 20)),
    # open, Quote (Lead 3, 5, 1; Qualified 10, 6, 14)
    ("A11", A, WEB, 100000, [(5, L), (8, Q), (18, QT)], "", date(2026, 12, 5)),
    ("A12", B, REF, 150000, [(15, L), (20, Q), (26, QT)], "", date(2026, 12, 20)),
    ("A13", C, SHOW, 50000, [(25, L), (26, Q), (40, QT)], "", date(2026, 10, 15)),
    # open, Negotiation (A16 skipped Qualified)
    ("A14", A, REF, 200000, [(0, L), (2, Q), (10, QT), (22, N)], "", date(2026, 11, 30)),
    ("A15", B, SHOW, 120000, [(12, L), (16, Q), (20, QT), (40, N)], "", date(2026, 12, 10)),
    ("A16", C, SHOW, 80000, [(30, L), (36, QT), (45, N)], "", date(2027, 1, 5)),
    # won (W5 skipped Qualified and Negotiation; W6 went back to Quote once)
    ("W1", B, WEB, 90000, [(0, L), (3, Q), (8, QT), (15, N), (25, W)], "", None),
    ("W2", A, WEB, 60000, [(5, L), (7, Q), (13, QT), (23, N), (38, W)], "", None),
    ("W3", A, REF, 150000, [(10, L), (15, Q), (20, QT), (25, N), (45, W)], "", None),
    ("W4", B, SHOW, 45000, [(20, L), (21, Q), (30, QT), (41, N), (54, W)], "", None),
    ("W5", C, REF, 30000, [(8, L), (12, QT), (20, W)], "", None),
    ("W6", A, WEB, 200000, [(2, L), (4, Q), (8, QT), (14, N), (18, QT), (24, N), (34, W)], "", None),
    # lost (L8 was typed in as Lost: History cannot say where it was lost)
    ("L1", A, WEB, 10000, [(40, L), (45, X)], "Price", None),
    ("L2", B, WEB, 20000, [(44, L), (54, X)], "No budget", None),
    ("L3", C, REF, 5000, [(0, L), (1, X)], "Price", None),
    ("L4", B, REF, 40000, [(10, L), (12, Q), (20, X)], "Competitor", None),
    ("L5", C, SHOW, 30000, [(30, L), (34, Q), (50, X)], "", None),
    ("L6", A, REF, 70000, [(15, L), (18, Q), (25, QT), (35, X)], "Price", None),
    ("L7", A, SHOW, 150000, [(5, L), (10, Q), (15, QT), (30, N), (56, X)], "Competitor", None),
    ("L8", B, WEB, 25000, [(57, X)], "Timing", None),
]


def cells(deal) -> dict[str, object]:
    """The Opportunities cells of one deal, as the sheet holds them on day 60."""
    ident, owner, source, amount, stages, reason, close = deal
    created = datetime.combine(day(stages[0][0]), datetime.min.time())
    return {"id": ident, "created": created, "source": source, "customer": f"Customer {ident}",
            "contact": "Someone", "phone": "13800000000", "owner": owner, "stage": stages[-1][1],
            "amount": amount, "expected_close": close, "loss_reason": reason, "stage_since": day(stages[-1][0]),
            "next_follow_up": date(2026, 12, 1) if stages[-1][1] not in (W, X) else None}


def opportunities() -> list[Opportunity]:
    return [Opportunity(i + 2, cells(deal)) for i, deal in enumerate(DEALS)]


def history_rows() -> list[list[object]]:
    """History as a person sees it: (time, ID, field, old, new, by), oldest first."""
    rows = []
    for ident, *_, stages, _reason, _close in DEALS:
        for (_, old), (n, new) in zip(stages, stages[1:], strict=False):
            rows.append([datetime.combine(day(n), datetime.min.time()).replace(hour=10), ident, "Stage", old, new,
                         "sheet edit"])
    return sorted(rows, key=lambda r: r[0])


def history() -> list[Entry]:
    return [Entry(*row) for row in history_rows()]


# Funnel. Furthest stage reached (a skip counts as passing through): Lead 30 (every deal, L8 included),
# Qualified 20 (A07-A16, W1-W6, L4-L7), Quote 14 (A11-A16, W1-W6, L6, L7), Negotiation 10 (A14-A16, W1-W6,
# L7), Won 6; Lost was entered by 8. Went on = next / this: 20/30, 14/20, 10/14, 6/10 (shares are kept
# to 0.01 %, days to 0.1 day, so every store reads back the same figures).
# Average days per deal over finished stays: Lead 88/23 (A07-A16: 41, W1-W6: 17, L1-L7: 30),
# Qualified 107/14 (A11-A15: 42, W1-W4+W6: 29, L4-L7: 36), Quote 119/11 (A14-A16: 41, W1-W6: 53 with W6's
# two stays 6+6, L6+L7: 25), Negotiation 98/6 (W1-W4: 58, W6: 4+10, L7: 26).
FUNNEL = [
    ["Lead", 6, 80000.0, 8000.0, 30, 0.6667, 3.8],  # 88 / 23 = 3.83
    ["Qualified", 4, 200000.0, 60000.0, 20, 0.7, 7.6],  # 107 / 14 = 7.64
    ["Quote", 3, 300000.0, 150000.0, 14, 0.7143, 10.8],  # 119 / 11 = 10.82
    ["Negotiation", 3, 400000.0, 280000.0, 10, 0.6, 16.3],  # 98 / 6 = 16.33
    [],
    ["Won", 6, 575000.0, 575000.0, 6, None, None],
    ["Lost", 8, 350000.0, 0.0, 8, None, None],
]
TOTALS = [
    ["Win rate (won / (won + lost))", 0.4286],  # 6 / 14
    ["Open pipeline", 980000.0],
    ["Open pipeline (weighted)", 498000.0],
]
LOST_WHERE = [
    ["Last open stage", "Lost deals", "Lost amount", "Reasons"],
    ["Lead", 3, 35000.0, "Price 2; No budget 1"],
    ["Qualified", 2, 70000.0, "(no reason) 1; Competitor 1"],
    ["Quote", 1, 70000.0, "Price 1"],
    ["Negotiation", 1, 150000.0, "Competitor 1"],
    ["(not recorded)", 1, 25000.0, "Timing 1"],
]
# Closed in November: Alice won W2, W3, W6 (410,000) and lost L1, L6, L7; Bob won W4 (45,000), lost L2, L8;
# Carol lost L5. October adds Bob's W1 (90,000) and L4, and Carol's W5 (30,000); L3 closed in September.
# Targets: Alice 410,000 / 200,000, Bob 45,000 / 100,000, team 455,000 / 300,000.
OWNERS = [
    ["Owner", "Open deals", "Open amount", "Overdue follow-ups", "Won this month", "Won amount this month",
     "Target (month)", "Won vs target", "Win rate this month", "Won amount this quarter", "Win rate this quarter"],
    ["Alice Chen", 5, 355000.0, 0, 3, 410000.0, 200000.0, 2.05, 0.5, 410000.0, 0.5],
    ["Bob Wang", 6, 385000.0, 0, 1, 45000.0, 100000.0, 0.45, 0.3333, 135000.0, 0.4],
    ["Carol Zhang", 5, 240000.0, 0, 0, 0.0, None, None, 0.0, 30000.0, 0.5],
    ["Team", None, None, None, 4, 455000.0, 300000.0, 1.5167],  # 455,000 / 300,000
]
SOURCES = [
    ["Source", "Deals", "Won this month", "Won amount this month", "Win rate this month", "Won amount this quarter",
     "Win rate this quarter"],
    ["Website", 11, 2, 260000.0, 0.4, 350000.0, 0.5],  # 2 of 5, 3 of 6
    ["Referral", 10, 1, 150000.0, 0.5, 180000.0, 0.5],  # 1 of 2, 2 of 4
    ["Trade show", 9, 1, 45000.0, 0.3333, 45000.0, 0.3333],  # 1 of 3
]
# Open deals by Expected close: A13 (October) is past; November A09, A14; December A07, A11, A12, A15;
# January A10, A16; no date A01-A06 and A08.
FORECAST = [
    ["Month", "Open deals", "Amount", "Weighted amount"],
    ["Already past", 1, 50000.0, 25000.0],
    ["2026-11", 2, 220000.0, 146000.0],
    ["2026-12", 4, 410000.0, 221000.0],
    ["2027-01", 2, 160000.0, 80000.0],
    ["(no date)", 7, 140000.0, 26000.0],
]
EXPECTED = [
    ["Pipeline summary"],
    ["Last updated 2026-11-28 09:30"],
    [],
    ["Funnel by stage"],
    ["Stage", "Count", "Amount", "Weighted amount", "Ever reached", "Went on to next", "Avg days in stage"],
    *FUNNEL,
    [],
    *TOTALS,
    [],
    ["Where lost deals were lost"],
    *LOST_WHERE,
    [],
    ["Results by owner"],
    *OWNERS,
    [],
    ["Results by source"],
    *SOURCES,
    [],
    ["Forecast by expected close"],
    *FORECAST,
]
# This week (from Monday 2026-11-23): no deal won, L7 and L8 lost; the open pipeline per stage as today.
TRENDS_HEADER = ["Period", "Taken", "Open deals", "Open amount", "Weighted amount", "Won in period",
                 "Won amount in period", "Lost in period", "Lead (count)", "Lead (amount)", "Qualified (count)",
                 "Qualified (amount)", "Quote (count)", "Quote (amount)", "Negotiation (count)",
                 "Negotiation (amount)"]
TRENDS_ROW = [datetime(2026, 11, 23), NOW, 16, 980000.0, 498000.0, 0, 0.0, 2, 6, 80000.0, 4, 200000.0, 3,
              300000.0, 3, 400000.0]
