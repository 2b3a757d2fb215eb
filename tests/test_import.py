"""sheetsync import FILE: CSV/XLSX, en/zh/CRM headers, --map, de-duplication, rejects, dry run, batches."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from sheetsync.cli import main
from sheetsync.core.importing import ImportRow, plan_import
from sheetsync.importer import FileProblem, map_columns, parse_maps, read_table, to_rows
from sheetsync.ports import Snapshot, TabData
from sheetsync.template import load_layout

VECTORS = Path(__file__).parent / "vectors" / "crm_headers"
NOW = datetime(2026, 11, 28, 9, 30)


@pytest.fixture
def runner(runner):
    """conftest's runner in a directory where `init` and a first `sync` ran."""
    r = runner
    assert r.invoke(main, ["init"]).exit_code == 0
    assert r.invoke(main, ["sync"]).exit_code == 0
    return r


def opportunities(path: Path) -> list[dict]:
    ws = openpyxl.load_workbook(path)["Opportunities"]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:] if any(c is not None for c in r)]


LEADS = """Company,Contact Name,Mobile,Email,Region,Deal Value,Notes,Company size
ACME MACHINERY CO. LTD,Wang,,,East,5000,repeat of Acme,Big
New Co,Zhao,13911112222,,North,"12,000",first,Small
New Co (Beijing),Zhao Two,13911112222,zhao@new.example,,,,Small
,Nobody,13900000000,,,,,
Lonely,Qian,,,,,,
Fresh Ltd,Sun,,sun@fresh.example,East,,,
"""


def test_import_reports_imported_merged_and_rejected_with_reasons(runner, tmp_path):
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    before = opportunities(tmp_path / "pipeline.xlsx")
    result = runner.invoke(main, ["import", "leads.csv", "--map", "Company size=Level"])
    assert result.exit_code == 0, result.output
    assert "2 imported, 2 merged into deals already there, 2 rejected." in result.output
    assert "row 2: ACME MACHINERY CO. LTD -> " in result.output and "(same company name)" in result.output
    assert "row 4: New Co (Beijing) -> " in result.output and "(same phone), filled Email" in result.output
    assert "row 5: no Customer (company name)" in result.output
    assert "row 6: neither Phone nor Email" in result.output
    after = opportunities(tmp_path / "pipeline.xlsx")
    assert len(after) == len(before) + 2
    new = {r["Customer"]: r for r in after[len(before):]}
    assert set(new) == {"New Co", "Fresh Ltd"}
    assert new["New Co"]["Email"] == "zhao@new.example"  # filled from the file's later duplicate row
    assert new["New Co"]["Amount"] == 12000 and new["New Co"]["Level"] == "Small"
    assert new["New Co"]["Owner"] and new["New Co"]["Assigned by"] and new["New Co"]["ID"].startswith("OPP-")
    assert new["Fresh Ltd"]["Owner"] and new["Fresh Ltd"]["Status"]
    acme = next(r for r in after if r["Customer"] == "Acme Machinery")
    assert acme["Amount"] == 5000 and acme["Need"] == "Automated line quote"  # blank filled, typed text kept
    history = [r for r in openpyxl.load_workbook(tmp_path / "pipeline.xlsx")["History"].iter_rows(values_only=True)]
    assert any("import (leads.csv)" in str(r) for r in history)


def test_importing_the_same_file_again_adds_nothing(runner, tmp_path):
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    runner.invoke(main, ["import", "leads.csv"])
    count = len(opportunities(tmp_path / "pipeline.xlsx"))
    again = runner.invoke(main, ["import", "leads.csv"])
    assert "0 imported, 4 merged" in again.output
    assert len(opportunities(tmp_path / "pipeline.xlsx")) == count


def test_dry_run_writes_nothing(runner, tmp_path):
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    before = (tmp_path / "pipeline.xlsx").read_bytes()
    result = runner.invoke(main, ["import", "leads.csv", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "2 imported, 2 merged" in result.output and "Dry run: nothing was written." in result.output
    assert (tmp_path / "pipeline.xlsx").read_bytes() == before


def test_small_batches_still_find_duplicates_across_batches(runner, tmp_path):
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    result = runner.invoke(main, ["import", "leads.csv", "--batch-size", "1"])
    assert "2 imported, 2 merged into deals already there, 2 rejected." in result.output


def test_xlsx_with_chinese_headers_and_dates(runner, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户名称", "联系人", "手机号", "区域", "预计金额", "预计成交日期"])
    ws.append(["深圳蓝海科技有限公司", "陈晨", "13712345678", "East", 88000, datetime(2027, 1, 15)])
    wb.save(tmp_path / "客户.xlsx")
    result = runner.invoke(main, ["import", "客户.xlsx"])
    assert result.exit_code == 0, result.output
    row = next(r for r in opportunities(tmp_path / "pipeline.xlsx") if r["Customer"] == "深圳蓝海科技有限公司")
    assert row["Expected close"].date() == date(2027, 1, 15) and row["Amount"] == 88000


def test_gb18030_csv_from_chinese_excel_is_read(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("公司名称,联系人,电话\n华为,张三,13800001111\n".encode("gb18030"))
    table = read_table(path)
    assert table.headers == ["公司名称", "联系人", "电话"] and table.rows[0][1][0] == "华为"


def test_a_salesforce_export_maps_its_known_headers_and_names_the_rest():
    table = read_table(VECTORS / "salesforce_lead_export.csv")
    mapping = map_columns(table.headers, {})
    keys = {table.headers[i]: k for i, k in mapping.columns.items()}
    assert keys["Company"] == "customer" and keys["Email"] == "email" and keys["LeadSource"] == "source"
    assert "OwnerId" in mapping.unmatched and "IsDeleted" in mapping.unmatched
    rows = to_rows(table, mapping)
    assert rows[0].fields["customer"] == "Moe's Bar" and rows[0].fields["phone"] == "555-214-7314"


@pytest.mark.parametrize("name", ["yudao_crm_clue_export_headers.csv", "fmis_customer_import_headers.csv"])
def test_chinese_crm_exports_find_customer_and_phone(name):
    table = read_table(VECTORS / name)
    found = set(map_columns(table.headers, {}).columns.values())
    assert "phone" in found


def test_a_file_without_a_customer_column_says_how_to_map_one(runner, tmp_path):
    (tmp_path / "x.csv").write_text("Org,Who,Tel\nAcme,Wang,138\n", encoding="utf-8")
    result = runner.invoke(main, ["import", "x.csv"])
    assert result.exit_code == 1 and '--map "Your header=Customer"' in result.output
    ok = runner.invoke(main, ["import", "x.csv", "--map", "Org=Customer", "--map", "Tel=Phone", "--dry-run"])
    assert "1 imported" in ok.output


@pytest.mark.parametrize("item, message", [("Org", "is not Header=Column"), ("Org=Nonsense", "not a column")])
def test_bad_map_options_are_named(item, message):
    with pytest.raises(FileProblem, match=message):
        parse_maps([item])


def test_unknown_file_types_and_missing_files_are_explained(tmp_path):
    (tmp_path / "a.xls").write_bytes(b"\xd0\xcf")
    with pytest.raises(FileProblem, match="save it from Excel or WPS as .xlsx or CSV"):
        read_table(tmp_path / "a.xls")
    with pytest.raises(FileProblem, match="There is no file"):
        read_table(tmp_path / "missing.csv")


def _snapshot() -> Snapshot:
    layout = load_layout("en", NOW.date())
    return Snapshot({t.tab.key: TabData(t.title, [list(t.headers), *[list(r) for r in t.rows]]) for t in layout.tabs})


def test_plan_import_is_pure_and_assigns_by_rules():
    ids = iter(f"OPP-NEW{i:03d}" for i in range(100))
    rows = [ImportRow(2, {"customer": "Zeta", "contact": "Z", "phone": "13600000000", "region": "East"}),
            ImportRow(3, {"customer": "Zeta Ltd", "contact": "Z2", "email": "z@zeta.example"})]
    plan = plan_import(_snapshot(), rows, language="en", now=NOW, cursors={}, new_id=lambda taken: next(ids),
                       source="import (t.csv)")
    assert [(line, ident) for line, ident, *_ in plan.imported] == [(2, "OPP-NEW000")]
    assert plan.merged[0].into == "OPP-NEW000" and plan.merged[0].filled == ("email",)
    appended = plan.batch.appends["opportunities"]
    assert len(appended) == 1 and "z@zeta.example" in appended[0]
    assert plan.imported[0][3]  # an owner from the East rule


def test_init_no_examples_leaves_out_example_rows_and_reps(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHEETSYNC_CONFIG", raising=False)
    assert CliRunner().invoke(main, ["init", "--no-examples"]).exit_code == 0
    wb = openpyxl.load_workbook(tmp_path / "pipeline.xlsx")
    assert wb["Opportunities"].max_row == 1 and wb["Team"].max_row == 1 and wb["Follow-ups"].max_row == 1
    rules = list(wb["Rules"].iter_rows(min_row=2, values_only=True))
    assert len(rules) == 1 and rules[0][1] == "Default"
    assert wb["Stages"].max_row > 5


def _foreign_workbook(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "商机列表"
    ws.append(["客户名称", "联系人", "手机", "区域"])
    ws.append(["华为技术", "张三", "13800001111", "华东"])
    wb.save(path)


def test_init_tab_adopts_an_existing_pipeline_tab_instead_of_adding_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHEETSYNC_CONFIG", raising=False)
    _foreign_workbook(tmp_path / "pipeline.xlsx")
    runner = CliRunner()
    result = runner.invoke(main, ["init", "--template", "zh", "--tab", "商机列表", "--no-examples"])
    assert result.exit_code == 0, result.output
    assert 'opportunities_tab = "商机列表"' in (tmp_path / "sheetsync.toml").read_text()
    assert runner.invoke(main, ["sync"]).exit_code == 0
    wb = openpyxl.load_workbook(tmp_path / "pipeline.xlsx")
    assert "商机" not in wb.sheetnames and "Opportunities" not in wb.sheetnames
    ws = wb["商机列表"]
    headers = [c.value for c in ws[1]]
    assert headers[:4] == ["客户名称", "联系人", "手机", "区域"] and "编号" in headers
    assert ws.cell(row=2, column=headers.index("编号") + 1).value.startswith("OPP-")


def test_init_tab_with_a_name_the_workbook_lacks_names_the_tabs_it_has(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHEETSYNC_CONFIG", raising=False)
    _foreign_workbook(tmp_path / "pipeline.xlsx")
    result = CliRunner().invoke(main, ["init", "--tab", "商机列"])
    assert result.exit_code == 1 and "no tab named '商机列'" in result.output and "商机列表" in result.output


def test_the_google_store_reads_the_adopted_tab_by_its_own_name(fake, store):
    from dataclasses import replace

    store.config = replace(store.config, opportunities_tab="商机列表")
    layout = load_layout("en", NOW.date(), titles={"opportunities": "商机列表"})
    store.setup(layout)
    snapshot = store.read(["opportunities"])
    assert snapshot.tabs["opportunities"].title == "商机列表"
    assert "Opportunities" not in snapshot.titles
