"""Lay a template out in an openpyxl workbook: tabs, headers, formats, dropdown, highlighting."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..core.safety import held_back, not_added
from ..core.schema import SYSTEM, column_for, find_tab, normalize
from ..template import Layout, TabLayout
from .excel_cells import set_cell

FORMAT_ROWS = 1_048_576
"""The Stage dropdown and overdue highlighting reach the last row a sheet can have, so every row gets them."""
HEADER_FONT = Font(bold=True)
SYSTEM_FILL = PatternFill("solid", fgColor="EEF2F7")
OVERDUE_FILL = PatternFill("solid", fgColor="F8D7DA")
KIND_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "amount": "#,##0.00", "percent": "0%"}


def _header_cells(ws: Worksheet) -> list[Any]:
    return [c.value for c in ws[1]] if ws.max_row >= 1 else []


def _style_header(ws: Worksheet, col: int, column) -> None:
    cell = ws.cell(row=1, column=col)
    cell.font = HEADER_FONT
    if column is not None and column.owner == SYSTEM:
        cell.fill = SYSTEM_FILL
    ws.column_dimensions[get_column_letter(col)].width = column.width if column is not None else 14


def _add_tab(wb: Workbook, spec: TabLayout, currency: str) -> Worksheet:
    ws = wb.create_sheet(spec.title)
    if spec.tab.headerless:
        ws.column_dimensions["A"].width = 34
        for letter in "BCDEF":
            ws.column_dimensions[letter].width = 17
        return ws
    for i, (header, column) in enumerate(zip(spec.headers, spec.columns, strict=True)):
        set_cell(ws, 1, i, header)
        _style_header(ws, i + 1, column)
    for r, row in enumerate(spec.rows, start=2):
        for i, value in enumerate(row):
            if value is not None:
                set_cell(ws, r, i, value)
                fmt = currency if spec.columns[i].kind == "amount" else KIND_FORMATS.get(spec.columns[i].kind)
                if fmt and not isinstance(value, str):
                    ws.cell(row=r, column=i + 1).number_format = fmt
    return ws


def _has_rows(ws: Worksheet) -> bool:
    """Tell whether a tab holds anything below its header row."""
    return any(value not in (None, "") for row in ws.iter_rows(min_row=2, values_only=True) for value in row)


def _add_missing_columns(ws: Worksheet, spec: TabLayout) -> list[str]:
    present = {c.key for h in _header_cells(ws) if h and (c := column_for(spec.tab, h)) is not None}
    names = {normalize(h) for h in _header_cells(ws) if h}
    added = []
    next_col = len([h for h in _header_cells(ws)]) + 1
    while next_col > 1 and ws.cell(row=1, column=next_col - 1).value in (None, ""):
        next_col -= 1
    keep_out = frozenset() if spec.adopted else held_back(spec.tab, _has_rows(ws))
    for header, column in zip(spec.headers, spec.columns, strict=True):
        if column.key in present or normalize(header) in names:
            continue
        if column.key in keep_out:
            added.append(not_added(spec.tab, ws.title, column, _header_cells(ws)))
            continue
        set_cell(ws, 1, next_col - 1, header)
        _style_header(ws, next_col, column)
        added.append(f"Added column '{header}' to '{ws.title}'")
        next_col += 1
    return added


def _freeze(ws: Worksheet) -> None:
    if ws.freeze_panes is None:
        ws.freeze_panes = "A2"


def _column_letters(ws: Worksheet, spec: TabLayout) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, header in enumerate(_header_cells(ws), start=1):
        column = column_for(spec.tab, header) if header else None
        if column is not None:
            out.setdefault(column.key, get_column_letter(i))
    return out


def _stage_dropdown(ws: Worksheet, letters: dict[str, str], stages_title: str | None,
                    stage_letter: str | None) -> list[str]:
    if "stage" not in letters or stages_title is None or stage_letter is None:
        return []
    sqref = f"{letters['stage']}2:{letters['stage']}{FORMAT_ROWS}"
    if any(str(dv.sqref) == sqref for dv in ws.data_validations.dataValidation):
        return []
    for dv in ws.data_validations.dataValidation:
        if _shorter(str(dv.sqref), letters["stage"]):
            dv.sqref = MultiCellRange(sqref)
            return [f"Extended the Stage dropdown in '{ws.title}' to every row"]
    source = f"={quote_sheetname(stages_title)}!${stage_letter}$2:${stage_letter}$100"
    dv = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=False)
    dv.add(sqref)
    ws.add_data_validation(dv)
    return [f"Added the Stage dropdown to '{ws.title}'"]


def _overdue_highlight(ws: Worksheet, letters: dict[str, str]) -> list[str]:
    letter = letters.get("next_follow_up")
    if letter is None:
        return []
    sqref = f"{letter}2:{letter}{FORMAT_ROWS}"
    if any(str(cf.sqref) == sqref for cf in ws.conditional_formatting):
        return []
    older = [cf for cf in ws.conditional_formatting if _shorter(str(cf.sqref), letter)]
    for cf in older:  # an earlier init highlighted only the first 5,000 rows: widen it
        rules = ws.conditional_formatting._cf_rules.pop(cf)
        for rule in rules:
            ws.conditional_formatting.add(sqref, rule)
    if older:
        return [f"Extended the overdue highlight in '{ws.title}' to every row"]
    rule = FormulaRule(formula=[f"AND(ISNUMBER({letter}2),{letter}2<TODAY())"], fill=OVERDUE_FILL)
    ws.conditional_formatting.add(sqref, rule)
    return [f"Highlighted overdue follow-ups in '{ws.title}'"]


def _shorter(sqref: str, letter: str) -> bool:
    """Whether a range is the column's rows from 2 down to some row before the sheet's last."""
    m = re.fullmatch(rf"{letter}2:{letter}(\d+)", sqref)
    return m is not None and int(m.group(1)) < FORMAT_ROWS


def _column_formats(ws: Worksheet, letters: dict[str, str], spec: TabLayout, currency: str) -> None:
    for column in spec.columns:
        fmt = currency if column.kind == "amount" else KIND_FORMATS.get(column.kind)
        if fmt and column.key in letters:
            ws.column_dimensions[letters[column.key]].number_format = fmt


def apply_layout(wb: Workbook, layout: Layout, named: Mapping[str, str] | None = None) -> list[str]:
    """Add missing tabs and columns and their formatting; never delete, reorder or rewrite people's cells."""
    changes: list[str] = []
    for spec in layout.tabs:
        title = find_tab(spec.tab, wb.sheetnames, named)
        if title is None:
            ws = _add_tab(wb, spec, layout.currency_format)
            changes.append(f"Added tab '{spec.title}'" + (f" with {len(spec.rows)} example rows" if spec.rows else ""))
        else:
            ws = wb[title]
            if not spec.tab.headerless:
                changes += _add_missing_columns(ws, spec)
        if not spec.tab.headerless:
            _freeze(ws)
            _column_formats(ws, _column_letters(ws, spec), spec, layout.currency_format)
    stages_title = find_tab(layout.tab("stages").tab, wb.sheetnames, named)
    stage_letter = _column_letters(wb[stages_title], layout.tab("stages")).get("stage") if stages_title else None
    opp = layout.tab("opportunities")
    opp_ws = wb[find_tab(opp.tab, wb.sheetnames, named)]
    letters = _column_letters(opp_ws, opp)
    changes += _stage_dropdown(opp_ws, letters, stages_title, stage_letter)
    changes += _overdue_highlight(opp_ws, letters)
    return changes
