"""Header mapping by name: aliases in en and zh, real CRM exports, and the guard on broken headers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sheetsync.core.schema import (
    FILL,
    OPPORTUNITIES,
    PEOPLE,
    SYSTEM,
    TABS,
    LayoutError,
    column_letter,
    find_tab,
    map_headers,
)

VECTORS = Path(__file__).resolve().parent / "vectors" / "crm_headers"
KINDS = {"text", "id", "datetime", "date", "phone", "email", "stage", "amount", "approval", "list", "int",
         "number", "bool", "percent"}


def test_every_column_has_a_known_owner_and_kind():
    for tab in TABS:
        for column in tab.columns:
            assert column.owner in (PEOPLE, FILL, SYSTEM), (tab.key, column.key)
            assert column.kind in KINDS, (tab.key, column.key)


def headers_of(name: str) -> list[str]:
    with open(VECTORS / name, encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh))


CRM_EXPORTS = [
    ("salesforce_lead_export.csv", {"customer": "Company", "contact": "Name", "phone": "Phone", "email": "Email",
                                    "need": "Description", "source": "LeadSource", "industry": "Industry",
                                    "level": "Rating", "region": "City", "created": "CreatedDate"}),
    ("zoho_crm_leads_standard_fields.csv", {"owner": "Lead Owner", "customer": "Company", "source": "Lead Source",
                                            "phone": "Phone", "email": "Email", "level": "Rating"}),
    ("zoho_crm_leads_api_names.csv", {"owner": "Owner", "customer": "Company", "source": "Lead_Source",
                                      "phone": "Phone", "need": "Description"}),
    ("hubspot_deals_internal_property_names.csv", {"stage": "dealstage", "amount": "amount",
                                                    "expected_close": "closedate"}),
    ("hubspot_contacts_internal_property_names.csv", {"customer": "company", "phone": "phone", "email": "email"}),
    ("yudao_crm_business_export_headers.csv", {"id": "编号", "customer": "客户名称", "last_contact": "最后跟进时间",
                                               "next_follow_up": "下次联系时间", "expected_close": "预计成交日期",
                                               "amount": "商机总金额", "owner": "负责人名字", "need": "备注",
                                               "created": "创建时间", "updated": "更新时间"}),
    ("yudao_crm_customer_import_template.csv", {"customer": "客户名称", "phone": "电话", "email": "邮箱",
                                                "region": "地区", "industry": "所属行业", "level": "客户等级",
                                                "source": "客户来源", "need": "备注"}),
    ("jiandaoyun_crm_clue_preset_fields.csv", {"contact": "联系人", "phone": "手机号", "customer": "客户名称",
                                               "source": "线索来源", "owner": "负责人",
                                               "last_contact": "最后跟进时间"}),
    ("fmis_customer_import_headers.csv", {"region": "客户区域", "customer": "客户名称", "industry": "行业划分",
                                          "source": "客户来源", "owner": "业务负责人", "contact": "客户联系人",
                                          "phone": "座机电话"}),
]


@pytest.mark.parametrize(("file", "expected"), CRM_EXPORTS, ids=[f for f, _ in CRM_EXPORTS])
def test_real_crm_export_headers_map_to_our_columns(file, expected):
    headers = headers_of(file)
    hm = map_headers(OPPORTUNITIES, "Import", headers, required=[])
    got = {key: hm.headers[i] for key, i in hm.index.items() if key in expected}
    assert got == expected


@pytest.mark.parametrize(("headers", "key", "index"), [
    (["  customer  ", "PHONE"], "phone", 1),
    (["客户名称", "手机号码"], "phone", 1),
    (["Company Name", "Mobile"], "customer", 0),
    (["Ｃｕｓｔｏｍｅｒ", "Contact"], "customer", 0),  # full-width letters typed with a Chinese IME
    (["Mobile", "Phone"], "phone", 1),  # the column's own name beats an alias
    (["Next  follow-up"], "next_follow_up", 0),
])
def test_headers_match_case_space_width_and_aliases(headers, key, index):
    assert map_headers(OPPORTUNITIES, "Opportunities", headers, required=[]).index[key] == index


@pytest.mark.parametrize(("headers", "message"), [
    (["Customer", "Contact", "Customer"], "'Opportunities' has the header 'Customer' twice (columns A and C)"),
    (["Customer", "", "Contact"], "Column B of 'Opportunities' has no header but sits inside the table"),
    (["Customer", "Owner", "负责人", "Contact"], "'Opportunities' has two columns meaning Owner"),
    (["Customer"], "Column 'Contact' (联系人) is missing from 'Opportunities'"),
])
def test_broken_headers_are_refused_with_the_fix(headers, message):
    with pytest.raises(LayoutError, match=message.replace("(", r"\(").replace(")", r"\)")):
        map_headers(OPPORTUNITIES, "Opportunities", headers, required=["customer", "contact"])


def test_trailing_blank_headers_are_not_a_problem():
    hm = map_headers(OPPORTUNITIES, "Opportunities", ["Customer", "Contact", None, ""], required=["contact"])
    assert hm.headers == ("Customer", "Contact")


def test_tabs_are_found_by_any_of_their_names():
    assert find_tab(OPPORTUNITIES, ["Summary", "商机"]) == "商机"
    assert find_tab(OPPORTUNITIES, ["Notes"]) is None


@pytest.mark.parametrize(("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ")])
def test_column_letters(index, letters):
    assert column_letter(index) == letters
