"""Cell formats the core asks for on the tabs it rebuilds, and the number format pattern of each.

The core names a format by kind (a `WriteBatch.formats` value); every store turns the kind into its own
request with the same pattern, so the workbook and the Google Sheet show the same thing.
"""

from __future__ import annotations

BOLD = "bold"
"""Header and title cells."""
PERCENT = "percent"
AMOUNT = "amount"
"""Money in an English workbook: whole units with thousands separators (120,000)."""
AMOUNT_CN = "amount_cn"
"""Money in a Chinese workbook: ¥ with 万 from ten thousand up (¥8,800, ¥12.0万)."""
DECIMAL = "decimal"
"""A figure with one decimal, such as average days."""
INTEGER = "integer"

PATTERNS = {
    PERCENT: "0%",
    AMOUNT: "#,##0",
    # 120000 / 1000 = 120, shown with a literal "." before its last digit: 12.0万 (Excel, WPS, LibreOffice
    # and Google Sheets all read the escaped dot as text, so one pattern serves both stores).
    AMOUNT_CN: '[>=10000]"¥"0\\.0,"万";"¥"#,##0',
    DECIMAL: "0.0",
    INTEGER: "0",
}
"""Number format pattern per kind (BOLD is a font, not a number format)."""


def amount_kind(language: str) -> str:
    """Return the money format kind for a workbook language."""
    return AMOUNT_CN if language == "zh" else AMOUNT
