"""Line up the rows a tab held with the rows it should hold, so only what differs is written.

A rebuilt tab (Reminders, Summary) is written as a diff against what the read returned: rows both
lists share stay where they are, rows only the old list has are deleted, rows only the new list has are
inserted, and the rest are paired and compared cell by cell. The alignment is a patience diff: the
common head and tail are set aside, rows that occur exactly once in both lists anchor the match (the
longest run of them in the same order), and the gaps between anchors are aligned the same way. Each
step is linear or n log n, so a 100,000-row tab with a handful of changes costs a few passes over it;
a gap with no unique rows is matched by a small dynamic program when it is small and paired by position
when it is not (such a gap is rewritten, which costs what it changed).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

SMALL_GAP = 20_000
"""Gaps with no unique rows up to this many old x new rows are aligned exactly (longest common subsequence)."""


@dataclass(frozen=True)
class Hunk:
    """Old rows [old_start, old_end) became new rows [new_start, new_end); everything between hunks is equal."""

    old_start: int
    old_end: int
    new_start: int
    new_end: int


def _anchors(a: Sequence[Hashable], b: Sequence[Hashable], alo: int, ahi: int, blo: int,
             bhi: int) -> list[tuple[int, int]]:
    """Rows unique in both spans, the longest subsequence of them in the same order in both."""
    seen_a: dict[Hashable, int] = {}
    for i in range(alo, ahi):
        key = a[i]
        seen_a[key] = -1 if key in seen_a else i
    seen_b: dict[Hashable, int] = {}
    for j in range(blo, bhi):
        key = b[j]
        if seen_a.get(key, -1) >= 0:
            seen_b[key] = -1 if key in seen_b else j
    pairs = [(seen_a[k], j) for k, j in seen_b.items() if j >= 0]
    if not pairs:
        return []
    pairs.sort(key=lambda p: p[1])
    # longest increasing subsequence of the old indexes, in new order (patience sorting)
    tails: list[int] = []
    tail_at: list[int] = []
    back: list[int] = [-1] * len(pairs)
    for n, (i, _) in enumerate(pairs):
        k = bisect_left(tails, i)
        if k == len(tails):
            tails.append(i)
            tail_at.append(n)
        else:
            tails[k] = i
            tail_at[k] = n
        back[n] = tail_at[k - 1] if k else -1
    out = []
    n = tail_at[-1]
    while n >= 0:
        out.append(pairs[n])
        n = back[n]
    out.reverse()
    return out


def _lcs(a: Sequence[Hashable], b: Sequence[Hashable], alo: int, ahi: int, blo: int,
         bhi: int) -> list[tuple[int, int]]:
    """Exact longest common subsequence of two small spans (dynamic programming)."""
    n, m = ahi - alo, bhi - blo
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = table[i], table[i + 1]
        ai = a[alo + i]
        for j in range(m - 1, -1, -1):
            row[j] = below[j + 1] + 1 if ai == b[blo + j] else max(below[j], row[j + 1])
    out = []
    i = j = 0
    while i < n and j < m:
        if a[alo + i] == b[blo + j]:
            out.append((alo + i, blo + j))
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return out


def matches(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[tuple[int, int]]:
    """Pairs (old index, new index) of equal rows kept in place, increasing in both."""
    out: list[tuple[int, int]] = []
    stack: list[tuple[int, int, int, int] | tuple[int, int]] = [(0, len(a), 0, len(b))]
    while stack:
        item = stack.pop()
        if len(item) == 2:
            out.append(item)  # type: ignore[arg-type]
            continue
        alo, ahi, blo, bhi = item  # type: ignore[misc]
        while alo < ahi and blo < bhi and a[alo] == b[blo]:
            out.append((alo, blo))
            alo, blo = alo + 1, blo + 1
        tail: list[tuple[int, int]] = []
        while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
            ahi, bhi = ahi - 1, bhi - 1
            tail.append((ahi, bhi))
        if alo < ahi and blo < bhi:
            anchors = _anchors(a, b, alo, ahi, blo, bhi)
            if anchors:
                # the stack pops last-pushed first: the tail (bottom up) under the spans (reversed)
                stack.extend(tail)
                spans: list[tuple[int, int, int, int] | tuple[int, int]] = []
                i0, j0 = alo, blo
                for i, j in anchors:
                    spans += [(i0, i, j0, j), (i, j)]
                    i0, j0 = i + 1, j + 1
                spans.append((i0, ahi, j0, bhi))
                stack.extend(reversed(spans))
                continue
            if (ahi - alo) * (bhi - blo) <= SMALL_GAP:
                out += _lcs(a, b, alo, ahi, blo, bhi)
        out += reversed(tail)
    return out


def hunks(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[Hunk]:
    """The differing stretches between old rows `a` and new rows `b`, top to bottom."""
    out = []
    i0 = j0 = 0
    for i, j in [*matches(a, b), (len(a), len(b))]:
        if i > i0 or j > j0:
            out.append(Hunk(i0, i, j0, j))
        i0, j0 = i + 1, j + 1
    return out
