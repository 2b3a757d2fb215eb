"""The one catalogue of user-facing text, in English and Chinese.

Every sentence a user reads (CLI output, Status and reminder texts, notifications, the status page)
is looked up here by key and filled with named fields, so the Chinese text is written as Chinese, never
made by slicing or translating the English one. Keys are grouped by the part of the product that says
them; each group keeps its keys together so parallel additions stay apart.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh")

EN: dict[str, str] = {
    # cli
    "cli.sync_done": "{count} opportunities: {changes}",
}

ZH: dict[str, str] = {
    # cli
    "cli.sync_done": "共 {count} 条商机：{changes}",
}

_CATALOGUES = {"en": EN, "zh": ZH}


class MissingMessage(KeyError):
    """A key is asked for that the catalogue does not hold."""


def say(key: str, language: str = "en", /, **fields: object) -> str:
    """Return the message `key` in `language` ("zh" or anything else for English), filled with `fields`."""
    table = _CATALOGUES["zh" if language == "zh" else "en"]
    try:
        template = table[key]
    except KeyError:
        raise MissingMessage(f"No message {key!r} in the {language} catalogue.") from None
    return template.format(**fields) if fields else template
