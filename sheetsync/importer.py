"""`sheetsync import FILE`: read a CSV or XLSX export, map its headers, and hand the rows to the planner.

Headers are matched like the sheet's own (English, Chinese and the CRM export names the schema knows:
Salesforce, HubSpot, Zoho, 简道云, yudao …), then by `[field_map]` and `--map "Header=Column"`. Columns
that match nothing are not imported and are named in the report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .core import values as v
from .core.importing import IMPORT_COLUMNS, ImportRow
from .core.schema import OPPORTUNITIES, column_for, normalize
from .intake.mapping import clean, resolve_field_map, to_text
from .ports import Cell

ENCODINGS = ("utf-8-sig", "gb18030")
"""Encodings tried for a CSV, in order: UTF-8 (with or without BOM), then the Chinese Excel default."""
SKIP = "-"
"""`--map "Header=-"` leaves a column out without a warning."""


class FileProblem(Exception):
    """The file cannot be read or mapped; the message names the file or header and the fix."""


@dataclass
class Table:
    """A file's header row and data rows (with their row numbers as a spreadsheet shows them)."""

    headers: list[str]
    rows: list[tuple[int, list[object]]]


@dataclass
class ColumnMap:
    """Which column of the file feeds which Opportunities column, and which columns feed nothing."""

    columns: dict[int, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)


def _blank(row: Sequence[object]) -> bool:
    return all(v.is_blank(c) for c in row)


def _from_rows(rows: Iterable[tuple[int, list[object]]], path: Path) -> Table:
    headers: list[str] | None = None
    body: list[tuple[int, list[object]]] = []
    for number, row in rows:
        if _blank(row):
            continue
        if headers is None:
            headers = [to_text(c).strip() for c in row]
            continue
        body.append((number, row))
    if headers is None:
        raise FileProblem(f"{path} has no header row: the first row must name the columns (Customer, Contact, "
                          "Phone …).")
    return Table(headers, body)


def _read_csv(path: Path) -> Table:
    raw = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileProblem(f"{path} is neither UTF-8 nor GB18030 text: save it from Excel as \"CSV UTF-8\".")
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    return _from_rows(((i, list(row)) for i, row in enumerate(reader, start=1)), path)


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a broken or foreign file
        raise FileProblem(f"{path} is not a readable .xlsx workbook ({exc}): save it as Excel Workbook (.xlsx) "
                          "or CSV.") from exc
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise FileProblem(f"{path} has no sheet named {sheet!r}: its sheets are {', '.join(wb.sheetnames)}.")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        return _from_rows(((i, list(row)) for i, row in enumerate(ws.iter_rows(values_only=True), start=1)), path)
    finally:
        wb.close()


def read_table(path: Path, sheet: str | None = None) -> Table:
    """Read the first sheet (or `sheet`) of an .xlsx file, or a .csv file."""
    if not path.is_file():
        raise FileProblem(f"There is no file {path}: give the path of a .csv or .xlsx export.")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path)
    raise FileProblem(f"{path.name} is not a .csv or .xlsx file: save it from Excel or WPS as .xlsx or CSV "
                      "(an old .xls too).")


def parse_maps(items: Sequence[str]) -> dict[str, str]:
    """Turn `--map "Header=Column"` options into a header -> column name mapping (Column '-' skips)."""
    found: dict[str, str] = {}
    for item in items:
        header, sep, target = item.partition("=")
        header, target = header.strip(), target.strip()
        if not sep or not header or not target:
            raise FileProblem(f"--map {item!r} is not Header=Column: write e.g. --map \"Company size=Level\" "
                              "(or \"Header=-\" to leave a column out).")
        if target != SKIP and column_for(OPPORTUNITIES, target) is None:
            raise FileProblem(f"--map {item!r}: {target!r} is not a column of Opportunities; use a header such "
                              "as Customer, Contact, Phone, Email, Region, Need, Amount or Owner.")
        found[header] = target
    return found


def map_columns(headers: Sequence[str], field_map: Mapping[str, str]) -> ColumnMap:
    """Find the Opportunities column each header feeds: --map / [field_map] first, then names and aliases."""
    skipped = {normalize(h) for h, target in field_map.items() if target == SKIP}
    explicit = resolve_field_map({h: t for h, t in field_map.items() if t != SKIP}, OPPORTUNITIES)
    out = ColumnMap()
    for i, header in enumerate(headers):
        if not header or normalize(header) in skipped:
            continue
        column = explicit.get(normalize(header)) or column_for(OPPORTUNITIES, header)
        if column is None or column.key not in IMPORT_COLUMNS:
            out.unmatched.append(header)
            continue
        out.columns[i] = column.key
    return out


def _typed(key: str, raw: object) -> Cell:
    """A cell as the sheet should hold it: dates as dates, amounts as numbers, everything else as clean text."""
    kind = OPPORTUNITIES.column(key).kind
    try:
        if kind == "date":
            return v.parse_date(raw) or ""
        if kind == "datetime":
            return v.parse_datetime(raw) or ""
        if kind == "amount":
            amount = v.parse_amount(raw)
            return "" if amount is None else amount
    except v.ValueProblem:
        pass  # kept as typed; the sync's Status check names the problem
    text, _ = clean(to_text(raw))
    return text


def to_rows(table: Table, mapping: ColumnMap) -> list[ImportRow]:
    """Each data row as column values: the first non-blank header wins, several headers for Need are joined."""
    rows = []
    for number, cells in table.rows:
        fields: dict[str, Cell] = {}
        notes: list[str] = []
        for i, key in mapping.columns.items():
            raw = cells[i] if i < len(cells) else None
            if v.is_blank(raw):
                continue
            if key == "need":
                text, _ = clean(to_text(raw))
                notes.append(text if not notes and list(mapping.columns.values()).count("need") == 1
                             else f"{table.headers[i]}: {text}")
            elif key not in fields:
                fields[key] = _typed(key, raw)
        if notes:
            fields["need"] = "\n".join(notes)
        rows.append(ImportRow(number, fields))
    return rows
