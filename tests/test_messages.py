import string

import pytest

from sheetsync import messages


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_exists_in_both_languages():
    assert set(messages.EN) == set(messages.ZH)


@pytest.mark.parametrize("key", sorted(messages.EN))
def test_both_languages_use_the_same_fields(key):
    assert _fields(messages.EN[key]) == _fields(messages.ZH[key])


def test_chinese_workbooks_get_chinese_text():
    assert messages.say("cli.sync_done", "zh", count=3, changes="x").startswith("共 3 条商机")
    assert messages.say("cli.sync_done", "en", count=3, changes="x").startswith("3 opportunities")


def test_an_unknown_key_is_named():
    with pytest.raises(messages.MissingMessage, match="no.such"):
        messages.say("no.such", "en")


def test_a_zh_workbook_hears_what_the_sync_did_in_chinese_only():
    from sheetsync.core.plan import Report

    report = Report(rows=7, ids=1, owners=1, handed_over=2)
    zh = report.line("zh")
    assert zh.startswith("7 条商机：新编号 1 个") and "交接 2 条" in zh
    assert not any(word in zh for word in ("opportunities", "owners", "handed"))
    assert report.line().startswith("7 opportunities: 1 new IDs, 1 owners assigned")
