"""The team's discipline settings the core needs: how to treat duplicates, handovers and reclaims."""

from __future__ import annotations

from dataclasses import dataclass

FLAG, MERGE = "flag", "merge"
"""What a form lead for a customer someone already has becomes: a flagged new row, or a follow-up note."""


@dataclass(frozen=True)
class Policy:
    """Settings from sheetsync.toml that change what a cycle plans (pure data, no config file access)."""

    phone_region: str = "CN"
    """Country assumed for phone numbers typed without a country code."""
    duplicates: str = FLAG
    """FLAG or MERGE (form re-submissions only; typed rows are always flagged)."""
    duplicate_protection_days: int = 0
    """Days after a deal closes during which its customer still routes to its owner."""
    reclaim_to: str = ""
    """Owner for reclaimed deals (a pool name); blank = by the Rules tab."""
    handover_from: str = ""
    """Hand over this rep's open deals this cycle (`sheetsync handover`), whether Active or not."""
    handover_to: str = ""
    """Receiver of `handover_from`'s deals; blank = by the Rules tab without them."""
