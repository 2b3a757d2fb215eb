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
