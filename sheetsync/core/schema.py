"""The workbook layout: tabs, columns, their en/zh names and aliases, and header mapping by name."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

PEOPLE = "people"
"""People own the column; the worker never writes it."""
FILL = "fill"
"""The worker writes the column only where the cell is blank."""
SYSTEM = "sys"
"""The worker owns the column and rewrites it every cycle."""


@dataclass(frozen=True)
class Column:
    """One column of a tab: its key in code, its names per language, who owns it and its value type."""

    key: str
    en: str
    zh: str
    owner: str = PEOPLE
    kind: str = "text"
    aliases: tuple[str, ...] = ()
    required: bool = False
    width: int = 14

    def name(self, language: str) -> str:
        return self.zh if language == "zh" else self.en

    def names(self) -> tuple[str, ...]:
        return (self.key, self.en, self.zh, *self.aliases)


@dataclass(frozen=True)
class Tab:
    """One tab of the workbook and its columns, in template order."""

    key: str
    en: str
    zh: str
    columns: tuple[Column, ...]
    system: bool = False
    aliases: tuple[str, ...] = ()
    headerless: bool = False
    by_key: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {c.key: c for c in self.columns})

    def title(self, language: str) -> str:
        return self.zh if language == "zh" else self.en

    def names(self) -> tuple[str, ...]:
        return (self.key, self.en, self.zh, *self.aliases)

    def column(self, key: str) -> Column:
        return self.by_key[key]


C = Column

OPPORTUNITIES = Tab("opportunities", "Opportunities", "商机", (
    C("id", "ID", "编号", FILL, "id", ("Opportunity ID", "Opp ID", "商机编号", "商机ID"), True, 12),
    C("created", "Created", "创建时间", FILL, "datetime", (
        "Created at", "Created time", "Create Time", "Date Created", "Created Date", "登记时间", "录入时间"),
      width=17),
    C("source", "Source", "来源", aliases=("Lead Source", "Channel source", "线索来源", "客户来源", "渠道")),
    C("customer", "Customer", "客户名称", aliases=("Company", "Company Name", "Account", "Account Name",
                                                  "Organization", "Organisation", "客户", "公司", "公司名称",
                                                  "企业名称", "单位名称"), required=True, width=22),
    C("contact", "Contact", "联系人", aliases=("Contact Name", "Name", "Full Name", "Contact Person",
                                             "姓名", "联系人姓名", "客户联系人"), required=True),
    C("phone", "Phone", "电话", PEOPLE, "phone", ("Mobile", "Mobile Phone", "Phone Number", "Cell", "Tel",
                                         "Telephone", "手机", "手机号", "手机号码", "联系电话", "联系方式", "座机电话",
                                         "电话号码"), width=16),
    C("email", "Email", "邮箱", PEOPLE, "email", ("E-mail", "Email Address", "Mail", "电子邮箱", "邮件"), width=22),
    C("region", "Region", "区域", aliases=("Area", "Territory", "Province", "City", "地区", "省份", "城市",
                                          "所在地区", "客户区域")),
    C("industry", "Industry", "行业", aliases=("Sector", "所属行业", "行业划分")),
    C("level", "Level", "客户等级", aliases=("Tier", "Rating", "Grade", "Customer Level", "等级", "客户级别")),
    C("need", "Need", "需求", aliases=("Requirement", "Description", "Notes", "Message", "Comments",
                                      "需求描述", "备注", "留言"), width=30),
    C("owner", "Owner", "负责人", FILL, aliases=("Assigned to", "Sales Rep", "Salesperson", "Lead Owner",
                                                "Deal Owner", "Account Owner", "销售", "跟进人", "业务员",
                                                "负责销售", "负责人名字", "业务负责人")),
    C("assigned_by", "Assigned by", "分配依据", SYSTEM, width=18),
    C("stage", "Stage", "阶段", kind="stage", aliases=("Status stage", "Deal Stage", "Sales Stage",
                                                      "商机阶段", "销售阶段")),
    C("amount", "Amount", "预计金额", kind="amount", aliases=("Deal Amount", "Value", "Deal Value",
                                                            "Expected Amount", "Expected Revenue", "金额",
                                                            "商机金额", "商机总金额", "预计成交金额")),
    C("expected_close", "Expected close", "预计成交日期", kind="date",
      aliases=("Close Date", "Expected Close Date", "预计成交时间", "结单日期")),
    C("last_contact", "Last contact", "最近跟进", FILL, "date", ("Last Contacted", "Last Activity",
                                                              "最近跟进时间", "最后跟进时间")),
    C("next_follow_up", "Next follow-up", "下次跟进", FILL, "date",
      ("Next followup", "Next follow up", "Follow-up date", "下次跟进时间", "下次联系时间")),
    C("next_step", "Next step", "下一步", aliases=("Next action", "下一步计划"), width=24),
    C("loss_reason", "Loss reason", "流失原因", aliases=("Lost reason", "Reason lost", "输单原因",
                                                      "丢单原因"), width=18),
    C("approval", "Approval", "审批", kind="approval", aliases=("Approval status", "审批状态", "审批结果")),
    C("status", "Status", "状态检查", SYSTEM, aliases=("Check", "Problems", "检查结果"), width=32),
    C("stage_since", "Stage since", "进入阶段日期", SYSTEM, "date", ("阶段开始日期",)),
    C("updated", "Updated", "更新时间", SYSTEM, "datetime", ("Last updated", "Modified", "修改时间"),
      width=17),
    C("days_in_stage", "Days in stage", "阶段停留天数", SYSTEM, "int", ("Days in current stage", "停留天数",
                                                                  "阶段天数"), width=12),
))

FOLLOWUPS = Tab("followups", "Follow-ups", "跟进记录", (
    C("date", "Date", "日期", kind="date", aliases=("Time", "Follow-up date", "跟进日期", "跟进时间"),
      required=True),
    C("opportunity_id", "Opportunity ID", "商机编号", kind="id", aliases=("ID", "Opp ID", "编号", "商机ID")),
    C("customer", "Customer", "客户名称", aliases=("Company", "客户", "公司名称"), width=22),
    C("phone", "Phone", "电话", PEOPLE, "phone", ("Mobile", "手机", "手机号", "联系电话")),
    C("channel", "Channel", "方式", aliases=("Method", "Type", "跟进方式", "渠道")),
    C("summary", "Summary", "内容", aliases=("Notes", "Content", "Details", "跟进内容", "记录"),
      required=True, width=40),
    C("next_follow_up", "Next follow-up", "下次跟进", kind="date", aliases=("Next follow up", "下次跟进时间")),
    C("by", "By", "跟进人", aliases=("Rep", "Owner", "Author", "记录人", "负责人")),
    C("ref", "Ref", "记录编号", FILL, "id", ("Entry ID", "Submission ID", "提交编号"), width=12),
), aliases=("Followups", "Follow ups", "Activities", "跟进"))

TEAM = Tab("team", "Team", "团队", (
    C("name", "Name", "姓名", aliases=("Rep", "Member", "成员", "销售"), required=True),
    C("email", "Email", "邮箱", PEOPLE, "email", ("E-mail", "邮件"), width=22),
    C("im", "IM id", "IM账号", aliases=("IM", "WeCom", "DingTalk", "Feishu", "企业微信", "钉钉", "飞书")),
    C("regions", "Regions", "区域", PEOPLE, "list", ("Region", "负责区域")),
    C("industries", "Industries", "行业", PEOPLE, "list", ("Industry", "负责行业")),
    C("levels", "Levels", "客户等级", PEOPLE, "list", ("Level", "等级")),
    C("capacity", "Capacity", "最大在手", PEOPLE, "int", ("Capacity (max open)", "Max open", "容量", "上限")),
    C("weight", "Weight", "权重", PEOPLE, "number"),
    C("active", "Active", "在岗", PEOPLE, "bool", ("Enabled", "启用", "在职", "是否在岗")),
    C("on_leave_until", "On leave until", "休假至", PEOPLE, "date", ("Leave until", "休假截止", "请假至")),
    C("manager", "Manager", "主管", aliases=("Reports to", "上级")),
    C("target", "Target", "月度目标", PEOPLE, "amount", ("Monthly target", "Target (per month)", "Quota",
                                                      "业绩目标", "目标", "月目标"), width=14),
    C("role", "Role", "角色", aliases=("Position", "Job", "岗位", "职位", "职责")),
), aliases=("Reps", "Sales team", "成员", "销售团队"))

RULES = Tab("rules", "Rules", "分配规则", (
    C("priority", "Priority", "优先级", PEOPLE, "int", ("Order", "顺序")),
    C("field", "Field", "字段", aliases=("Match field", "匹配字段")),
    C("values", "Values", "取值", PEOPLE, "list", ("Value", "Match values", "匹配值")),
    C("assign_to", "Assign to", "分配给", PEOPLE, "list", ("Assignees", "Pool", "Target", "分配对象"),
      required=True, width=24),
    C("method", "Method", "方式", aliases=("Assignment method", "分配方式")),
    C("note", "Note", "备注", aliases=("Notes", "说明"), width=30),
), aliases=("Assignment rules", "Assignment", "分配"))

STAGES = Tab("stages", "Stages", "阶段", (
    C("stage", "Stage", "阶段", aliases=("Name", "名称", "阶段名称"), required=True),
    C("order", "Order", "顺序", PEOPLE, "int", ("Sort", "排序")),
    C("probability", "Probability", "赢率", PEOPLE, "percent", ("Win probability", "Probability (%)", "概率",
                                                       "成交概率")),
    C("follow_up_days", "Follow-up every (days)", "跟进周期(天)", PEOPLE, "int",
      ("Follow-up every", "Follow up every (days)", "Cadence (days)", "跟进周期", "跟进间隔(天)"), width=20),
    C("stale_days", "Stale after (days)", "停滞上限(天)", PEOPLE, "int", ("Stale after", "Stale limit", "停滞天数",
                                                             "停滞上限"), width=18),
    C("required_fields", "Required fields", "必填字段", PEOPLE, "list", ("Required", "必填"), width=28),
    C("needs_approval", "Needs approval", "需审批", PEOPLE, "bool", ("Approval required", "需要审批", "是否审批")),
    C("outcome", "Outcome", "结果", aliases=("Type", "类型", "阶段类型")),
    C("reclaim_days", "Reclaim after (days)", "回收公海(天)", PEOPLE, "int",
      ("Reclaim after", "Reclaim days", "公海回收(天)", "回收天数", "掉公海天数"), width=20),
), aliases=("Pipeline stages", "销售阶段"))

REMINDERS = Tab("reminders", "Reminders", "提醒", (
    C("due", "Due", "到期日", SYSTEM, "date"),
    C("owner", "Owner", "负责人", SYSTEM),
    C("id", "ID", "编号", SYSTEM),
    C("customer", "Customer", "客户名称", SYSTEM, width=22),
    C("stage", "Stage", "阶段", SYSTEM),
    C("reason", "Reason", "原因", SYSTEM, width=40),
    C("days_overdue", "Days overdue", "逾期天数", SYSTEM, "int"),
), system=True, aliases=("Reminder", "待办"))

SUMMARY = Tab("summary", "Summary", "汇总", (), system=True, aliases=("Funnel", "漏斗", "统计"),
              headerless=True)

HISTORY = Tab("history", "History", "变更记录", (
    C("time", "Time", "时间", SYSTEM, "datetime", width=17),
    C("id", "ID", "编号", SYSTEM),
    C("field", "Field", "字段", SYSTEM),
    C("old", "Old", "旧值", SYSTEM, width=20),
    C("new", "New", "新值", SYSTEM, width=20),
    C("by", "By", "来源", SYSTEM, width=16),
), system=True, aliases=("Change history", "Changes", "历史", "变更历史"))

TRENDS = Tab("trends", "Trends", "趋势", (
    C("period", "Period", "周期", SYSTEM, "date", width=12),
    C("taken", "Taken", "记录时间", SYSTEM, "datetime", width=17),
    C("open_count", "Open deals", "在手数量", SYSTEM, "int", width=11),
    C("open_amount", "Open amount", "在手金额", SYSTEM, "amount", width=14),
    C("weighted", "Weighted amount", "加权金额", SYSTEM, "amount", width=15),
    C("won_count", "Won in period", "本期成交", SYSTEM, "int", width=13),
    C("won_amount", "Won amount in period", "本期成交金额", SYSTEM, "amount", width=18),
    C("lost_count", "Lost in period", "本期流失", SYSTEM, "int", width=13),
), system=True, aliases=("Trend", "Pipeline trends", "趋势记录"))
"""One row per period (a week by default) with per-stage count and amount columns added at the right end."""

CUSTOMERS = Tab("customers", "Customers", "客户", (
    C("customer", "Customer", "客户名称", SYSTEM, aliases=("Company", "公司名称"), width=22),
    C("contact", "Contact", "联系人", SYSTEM),
    C("phone", "Phone", "电话", SYSTEM, "phone", ("Mobile", "手机"), width=16),
    C("email", "Email", "邮箱", SYSTEM, "email", ("E-mail", "电子邮箱"), width=22),
    C("owner", "Sales owner", "销售负责人", SYSTEM, aliases=("Owner", "负责人", "销售")),
    C("amount", "Amount", "成交金额", SYSTEM, "amount", ("Won amount", "金额", "合同金额")),
    C("won_date", "Won date", "成交日期", SYSTEM, "date", ("Won on", "签约日期")),
    C("id", "Opportunity ID", "商机编号", SYSTEM, "id", ("ID", "编号", "商机ID"), required=True, width=12),
    C("service_owner", "Service owner", "服务负责人", FILL, aliases=("Service", "CSM", "客服", "售后负责人")),
    C("status", "Status", "状态", SYSTEM, aliases=("Note", "备注"), width=30),
), system=True, aliases=("Clients", "Accounts", "Won customers", "成交客户", "客户列表"))
"""One row per won opportunity (成交转服务), kept up to date by opportunity ID; never a second row for a deal."""

TABS: tuple[Tab, ...] = (OPPORTUNITIES, FOLLOWUPS, TEAM, RULES, STAGES, REMINDERS, SUMMARY, HISTORY, TRENDS,
                         CUSTOMERS)
TABS_BY_KEY = {t.key: t for t in TABS}


_FOLD = re.compile(r"[\s_\-./:：()（）]+")


@lru_cache(maxsize=1 << 16)
def _fold(name: str) -> str:
    return _FOLD.sub("", unicodedata.normalize("NFKC", name).casefold())


def normalize(name: object) -> str:
    """Fold a header or value for matching: width, case, spaces, punctuation."""
    return _fold(name if type(name) is str else str(name or ""))


class LayoutError(Exception):
    """The workbook's layout stops the cycle before any write; the message says how to fix it."""


@dataclass(frozen=True)
class HeaderMap:
    """Where each known column of one tab sits, found by header name."""

    tab: Tab
    title: str
    headers: tuple[str, ...]
    index: dict[str, int]

    def get(self, row: Sequence[object], key: str) -> object:
        i = self.index.get(key)
        if i is None or i >= len(row):
            return None
        return row[i]


def _lookup(names_by_column: Sequence[tuple[str, ...]]) -> dict[str, tuple[int, int]]:
    """Folded name -> (column index, rank): rank 0 for a column's own names, 1 for an alias."""
    table: dict[str, tuple[int, int]] = {}
    # Own names first so an alias of one column never shadows another column's own name.
    for rank in (0, 1):
        for i, names in enumerate(names_by_column):
            for name in (names[:3] if rank == 0 else names[3:]):
                table.setdefault(normalize(name), (i, rank))
    return table


_COLUMN_LOOKUP = {t.key: _lookup([c.names() for c in t.columns]) for t in TABS}


def _match(tab: Tab, header: object) -> tuple[Column, int] | None:
    hit = _COLUMN_LOOKUP[tab.key].get(normalize(header))
    return None if hit is None else (tab.columns[hit[0]], hit[1])


def column_for(tab: Tab, header: object) -> Column | None:
    """The column a header names (any language or alias), or None."""
    hit = _match(tab, header)
    return None if hit is None else hit[0]


def map_headers(tab: Tab, title: str, headers: Sequence[object],
                required: Sequence[str] | None = None) -> HeaderMap:
    """Map a tab's header row to column keys; raise LayoutError on missing, blank or duplicate headers."""
    cells = [("" if h is None else str(h)).strip() for h in headers]
    while cells and not cells[-1]:
        cells.pop()
    index: dict[str, int] = {}
    ranks: dict[str, int] = {}
    seen: dict[str, int] = {}
    for i, text in enumerate(cells):
        letter = column_letter(i)
        if not text:
            raise LayoutError(
                f"Column {letter} of '{title}' has no header but sits inside the table: "
                f"type a header into {letter}1 or delete the empty column.")
        folded = normalize(text)
        if folded in seen:
            raise LayoutError(
                f"'{title}' has the header '{text}' twice (columns {column_letter(seen[folded])} and "
                f"{letter}): rename or delete one of them.")
        seen[folded] = i
        hit = _match(tab, text)
        if hit is None:
            continue
        column, rank = hit
        if column.key in index:
            other = cells[index[column.key]]
            if rank == ranks[column.key] == 0:
                raise LayoutError(
                    f"'{title}' has two columns meaning {column.en} ('{other}' and '{text}'): "
                    f"rename or delete one of them.")
            if rank >= ranks[column.key]:
                continue  # e.g. Phone and Mobile: the column's own name wins, the other stays a plain column
        index[column.key] = i
        ranks[column.key] = rank
    needed = [c.key for c in tab.columns if c.required] if required is None else list(required)
    for key in needed:
        if key not in index:
            from .safety import missing_column  # advice that never adds a blank column people's data lives in

            raise LayoutError(missing_column(tab, title, tab.column(key), cells))
    return HeaderMap(tab, title, tuple(cells), index)


def find_tab(tab: Tab, titles: Sequence[str], named: Mapping[str, str] | None = None) -> str | None:
    """The title in the workbook that names this tab (`named` first, then any language or alias), or None."""
    own = (named or {}).get(tab.key)
    if own and own in titles:
        return own
    wanted = {normalize(n) for n in tab.names()}
    for title in titles:
        if normalize(title) in wanted:
            return title
    return None


def column_letter(index: int) -> str:
    """Spreadsheet column letters for a 0-based index (0 -> A, 27 -> AB)."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
