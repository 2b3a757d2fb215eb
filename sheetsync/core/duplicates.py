"""撞单: find an earlier opportunity for the same customer by phone, email or company name.

Identities are compared after normalising what people type differently: phone numbers through
`phonenumbers` (so +86 138 0013 8000, 0086-138-0013-8000 and 13800138000 are one number), emails
case-folded, company names without legal suffixes, regional prefixes in brackets, punctuation and
full-width forms. A near-identical company name (rapidfuzz) is a weaker signal: it is flagged but does
not change who owns the row.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache, partial

import phonenumbers
from rapidfuzz import fuzz, process

from ..messages import say
from . import values as v
from .model import Opportunity, Pipeline, Rep
from .schema import normalize

PHONE, EMAIL, NAME, SIMILAR = "phone", "email", "name", "similar"
"""The signals, strongest first; SIMILAR (a fuzzy company name) only flags, it never routes."""
STRONG = (PHONE, EMAIL, NAME)

SIMILARITY = 90
"""Lowest rapidfuzz ratio (0-100) of two normalised company names that counts as 'similar'."""
SIMILAR_MIN_LENGTH = 4
"""Normalised names shorter than this are never compared fuzzily (too many false alarms)."""

_BRACKETS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_ZH_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "控股", "分公司", "公司", "工作室")
_EN_SUFFIXES = re.compile(
    r"\b(?:co|company|ltd|limited|inc|incorporated|corp|corporation|llc|plc|gmbh|group|holdings?|"
    r"international|intl|the)\b")
_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)


_CN_MOBILE = re.compile(r"(?:\+86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})")
"""A mainland mobile as most people type it (13800138000, 138 0013 8000, 138-0013-8000, +86 138 0013 8000)."""
_CN_LANDLINE = re.compile(r"0([1-9]\d{1,2})[ -]?(\d{7,8})")
"""A mainland landline with its area code (010-12345678, 0755 1234567, 02112345678)."""


@lru_cache(maxsize=65536)
def phone_identity(raw: str, region: str = "CN") -> str:
    """A phone number as E.164 when it parses for `region`, else its last 11 digits; '' when there is none."""
    raw = raw.strip()
    if not raw:
        return ""
    if region == "CN":
        # What phonenumbers answers for the commonest shapes, without its cost (179 is a carrier prefix it strips)
        mobile = _CN_MOBILE.fullmatch(raw)
        if mobile is not None and mobile.group(1) != "179":
            return "+86" + "".join(mobile.groups())
        landline = _CN_LANDLINE.fullmatch(raw)
        if landline is not None:
            return "+86" + "".join(landline.groups())
    try:
        number = phonenumbers.parse(raw, region or None)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    digits = "".join(ch for ch in raw if ch.isdigit())
    return digits[-11:] if len(digits) >= 7 else ""


def email_identity(raw: str) -> str:
    """An email address trimmed and case-folded; '' when it does not look like one."""
    text = unicodedata.normalize("NFKC", raw).strip().casefold()
    return text if "@" in text else ""


@lru_cache(maxsize=65536)
def company_identity(raw: str) -> str:
    """A company name without width, case, brackets, legal suffixes and punctuation.

    '深圳市华为技术有限公司（北京）' and '深圳市华为技术' are one name, as are 'Acme Machinery Co., Ltd.'
    and 'ACME MACHINERY'.
    """
    text = unicodedata.normalize("NFKC", raw).casefold()
    text = _BRACKETS.sub(" ", text)
    text = _EN_SUFFIXES.sub(" ", text.replace("&", " "))
    text = _PUNCTUATION.sub("", text)
    changed = True
    while changed:
        changed = False
        for suffix in _ZH_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                changed = True
    return text


@dataclass(frozen=True)
class Match:
    """The earlier opportunity a row duplicates, and which signal matched."""

    original: Opportunity
    signal: str

    @property
    def strong(self) -> bool:
        return self.signal in STRONG


def is_protected(opp: Opportunity, pipeline: Pipeline, today: date, protect_days: int) -> bool:
    """Tell whether a customer still belongs to this opportunity's owner: open, or closed within the days."""
    stage = pipeline.find(opp.cells.get("stage"))
    if stage is None or stage.is_open:
        return True
    if protect_days <= 0:
        return False
    closed = opp.date("stage_since") or opp.date("updated")
    return closed is not None and today - closed <= timedelta(days=protect_days)


class DuplicateIndex:
    """Every protected opportunity by identity, oldest first, to look new rows up against."""

    def __init__(self, opportunities: Sequence[Opportunity], pipeline: Pipeline, today: date, *,
                 region: str = "CN", protect_days: int = 0) -> None:
        self.region = region
        self._age: dict[int, tuple[datetime, int]] = {}
        self._keys: dict[tuple[str, str], list[Opportunity]] = {}
        self._names: dict[str, dict[int, list[tuple[str, Opportunity]]]] = {}
        """Fuzzy-matchable names by first character, then by length (lengths too far apart never match)."""
        self._choices: dict[tuple[str, int], list[str]] = {}
        self._ages: dict[tuple[str, int], list[tuple[datetime, int]]] = {}
        for seq, opp in enumerate(opportunities):
            created = _lenient_datetime(opp.cells.get("created")) or datetime.max
            self._age[id(opp)] = (created, seq)
        for opp in sorted(opportunities, key=lambda o: self._age[id(o)]):
            if not is_protected(opp, pipeline, today, protect_days):
                continue
            self._register(opp)

    def _register(self, opp: Opportunity) -> None:
        for signal, key in self.identities(opp):
            self._keys.setdefault((signal, key), []).append(opp)
            if signal == NAME and len(key) >= SIMILAR_MIN_LENGTH:
                self._names.setdefault(key[0], {}).setdefault(len(key), []).append((key, opp))
                self._choices.pop((key[0], len(key)), None)

    def identities(self, opp: Opportunity) -> list[tuple[str, str]]:
        """The (signal, key) pairs an opportunity can be found by."""
        return opp.derived(("identities", self.region), self._identities)

    def _identities(self, opp: Opportunity) -> list[tuple[str, str]]:
        found = [(PHONE, phone_identity(opp.text("phone"), self.region)), (EMAIL, email_identity(opp.text("email"))),
                 (NAME, company_identity(opp.text("customer")))]
        return [(signal, key) for signal, key in found if key]

    def _earlier(self, candidate: Opportunity, opp: Opportunity) -> bool:
        if candidate is opp or (candidate.id and candidate.id == opp.id):
            return False
        return self._age.get(id(candidate), (datetime.max, 1 << 60)) < self._age.get(id(opp), (datetime.max, 1 << 60))

    def _earlier_in(self, bucket: list[tuple[str, Opportunity]], opp: Opportunity, i: int) -> bool:
        return self._earlier(bucket[i][1], opp)

    def add(self, opp: Opportunity) -> None:
        """Register a row that is not in the sheet yet (a form lead of this batch), newest so far."""
        self._age[id(opp)] = (datetime.max, len(self._age) + (1 << 40))
        self._register(opp)

    def find(self, opp: Opportunity) -> Match | None:
        """The oldest earlier protected opportunity this one duplicates, by the strongest signal that matches."""
        keys = self.identities(opp)
        for signal, key in keys:
            for candidate in self._keys.get((signal, key), ()):
                if self._earlier(candidate, opp):
                    return Match(candidate, signal)
        name = next((key for signal, key in keys if signal == NAME), "")
        if len(name) < SIMILAR_MIN_LENGTH:
            return None
        age = self._age.get(id(opp), (datetime.max, 1 << 60))
        best: Opportunity | None = None
        for length, bucket in self._names.get(name[0], {}).items():
            # fuzz.ratio is 100 * (1 - indel distance / total length), and the distance is at least the
            # difference in length: names whose lengths differ this much can never reach SIMILARITY.
            if abs(length - len(name)) * 100 > (100 - SIMILARITY) * (length + len(name)):
                continue
            choices = self._choices.get((name[0], length))
            if choices is None:
                choices = self._choices[(name[0], length)] = [k for k, _ in bucket]
                self._ages[(name[0], length)] = [self._age[id(o)] for _, o in bucket]
            # buckets are oldest first, so the earlier rows are a prefix and the first hit is the oldest
            end = bisect.bisect_left(self._ages[(name[0], length)], age)
            found = _oldest_hit(name, choices, end, partial(self._earlier_in, bucket, opp))
            if found is not None and (best is None or self._age[id(bucket[found][1])] < self._age[id(best)]):
                best = bucket[found][1]
        return None if best is None else Match(best, SIMILAR)


def _oldest_hit(name: str, choices: Sequence[str], end: int, earlier: Callable[[int], bool]) -> int | None:
    """The first index below `end` whose name is SIMILARITY-close to `name` and passes `earlier`.

    Scans in growing windows from the start, so a hit among the oldest rows is found without scoring the rest.
    """
    start, window = 0, 64
    while start < end:
        stop = min(end, start + window)
        hits = process.extract(name, choices[start:stop], scorer=fuzz.ratio, score_cutoff=SIMILARITY, limit=None)
        for i in sorted(start + i for _, _, i in hits):
            if earlier(i):
                return i
        start, window = stop, window * 4
    return None


def _lenient_datetime(raw: object) -> datetime | None:
    try:
        return v.parse_datetime(raw)
    except v.ValueProblem:
        return None


def duplicate_note(match: Match, language: str) -> str:
    """The Status words for a row that duplicates an earlier one."""
    if match.signal == SIMILAR:
        return say("discipline.duplicate_similar", language, id=match.original.id,
                   name=match.original.text("customer"))
    return say("discipline.duplicate", language, id=match.original.id,
               signal=say(f"discipline.signal.{match.signal}", language))


def routable_owner(match: Match, team: Sequence[Rep]) -> str:
    """The owner a duplicate goes to: the earlier deal's owner, unless the match is weak or they left."""
    owner = match.original.owner
    if not match.strong or not owner:
        return ""
    rep = next((r for r in team if normalize(r.name) == normalize(owner)), None)
    return "" if rep is not None and not rep.active else owner
