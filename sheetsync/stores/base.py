"""The store port, kept under its old name: the types now live in sheetsync.ports."""

from __future__ import annotations

from ..ports import (
    Cell,
    CellWrite,
    ChartSpec,
    Guard,
    Snapshot,
    Store,
    StoreConflict,
    StoreError,
    TabData,
    WriteBatch,
)

__all__ = ["Cell", "CellWrite", "ChartSpec", "Guard", "Snapshot", "Store", "StoreConflict", "StoreError", "TabData",
           "WriteBatch"]
