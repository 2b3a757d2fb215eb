"""The webhook sources, one module each, by the name used in /hooks/<source>."""

from __future__ import annotations

from types import ModuleType

from . import followup, generic, google_forms, jiandaoyun, tally, typeform

SOURCES: dict[str, ModuleType] = {m.NAME: m for m in (generic, google_forms, jiandaoyun, typeform, tally, followup)}
"""Each module has NAME, CONTENT_TYPES, verify(request, secrets, now) and parse(request, context)."""
