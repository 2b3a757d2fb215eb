"""Opportunity IDs: short, unambiguous, easy to read out over the phone (OPP-7K3F9Q)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Container

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U, so nobody mistakes 1 for I or 0 for O."""
PREFIX = "OPP-"
LENGTH = 6
"""32**6 is about a billion IDs; collisions with `taken` are retried."""


def new_id(rng: random.Random | None = None, taken: Container[str] = (), prefix: str = PREFIX,
           length: int = LENGTH) -> str:
    """Return a fresh ID such as OPP-7K3F9Q that is not in `taken`."""
    rng = rng or secrets.SystemRandom()
    while True:
        bits = rng.getrandbits(5 * length)  # one draw (one system call for SystemRandom), 5 bits a character
        candidate = prefix + "".join(ALPHABET[(bits >> shift) & 31] for shift in range(0, 5 * length, 5))
        if candidate not in taken:
            return candidate
