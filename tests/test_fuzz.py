"""Property-based fuzzing of every source and the value parsers (hypothesis).

The default suite sends 1,200 generated requests (200 per source) in a few seconds. The long run sends
3,500 per source (21,000), then flushes everything that was accepted into a workbook and opens it; run it
with `python -m pytest -m fuzz -s` (SHEETSYNC_FUZZ_REPORT=path writes its figures as JSON).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from fuzzing import NASTY, NOW, SECRETS, SOURCES, Record, fuzz_source, texts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheetsync.core import values
from sheetsync.intake.flush import flush_once
from sheetsync.sync import Syncer
from webhook import EXTENSION, create_app

QUICK_EXAMPLES = 200
LONG_EXAMPLES = 3500


@pytest.fixture
def fuzz_app(config):
    app = create_app(replace(config, secrets=SECRETS, max_body=1 << 20))
    app.extensions[EXTENSION].clock = lambda: NOW
    yield app
    app.extensions[EXTENSION].queue.close()


def _items(app):
    queue = app.extensions[EXTENSION].queue
    return lambda: queue.items()


@pytest.mark.parametrize("source", SOURCES)
def test_no_generated_request_gets_a_5xx_or_stores_an_unsafe_value(fuzz_app, source):
    record = Record()
    fuzz_source(fuzz_app.test_client(), source, QUICK_EXAMPLES, record, _items(fuzz_app))
    assert record.requests >= QUICK_EXAMPLES


def _drain_into_workbook(app, excel, config, state) -> int:
    queue = app.extensions[EXTENSION].queue
    syncer = Syncer(excel.store, config, state, clock=lambda: NOW)
    for _ in range(1000):
        result = flush_once(queue, syncer, NOW)
        if not result.claimed:
            break
        assert not result.error, result.error
    # Items the sheet refused (an update for a record it never saw) wait for a retry or for a person; every
    # other item must have landed.
    return len([i for i in queue.items() if i["status"] != "done" and not i.get("last_error")])


def test_fuzzed_leads_land_and_the_workbook_still_opens(fuzz_app, excel, config, state, tmp_path):
    record = Record()
    for source in ("generic", "jiandaoyun", "tally"):
        fuzz_source(fuzz_app.test_client(), source, int(os.environ.get("HOSTILE_WB_EXAMPLES", "60")), record,
                    _items(fuzz_app))
    assert record.statuses.get(202, 0) > 0
    assert _drain_into_workbook(fuzz_app, excel, config, state) == 0
    openpyxl.load_workbook(tmp_path / "pipeline.xlsx")


# -- value parsers -----------------------------------------------------------------------------------

cell_values = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.integers(10**300, 10**500),
                        st.floats(), st.decimals(),
                        st.dates(), st.datetimes(), texts, st.sampled_from(NASTY),
                        st.text(st.sampled_from("0123456789 ,.-/年月日:+()¥$万k%x转"), max_size=40),
                        st.integers(0, 3000).map(lambda n: "1" + " " * n + "x"))
PARSERS = [values.parse_datetime, values.parse_date, values.parse_amount, values.parse_number, values.parse_percent,
           values.parse_bool, values.phone_problem, values.email_problem, values.parse_list, values.text]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=cell_values)
def test_value_parsers_answer_or_raise_value_problem_only(value):
    for parse in PARSERS:
        try:
            result = parse(value)
        except values.ValueProblem:
            continue
        if parse in (values.parse_datetime,):
            assert result is None or isinstance(result, datetime)
        elif parse is values.parse_date:
            assert result is None or isinstance(result, date)
        elif parse is values.parse_amount:
            assert result is None or (isinstance(result, Decimal) and result.is_finite())


# -- the long run ------------------------------------------------------------------------------------

def _linearity(timings: list[tuple[int, float, str]]) -> dict[str, float]:
    """CPU microseconds per KiB for small and large bodies: about equal when time is linear in size."""
    small = [t / max(size, 1) for size, t, _ in timings if 1024 <= size < 16 * 1024]
    large = [t / size for size, t, _ in timings if size >= 64 * 1024]
    per_kib = {"small_us_per_kib": statistics.median(small) * 1024 * 1e6 if small else 0.0,
               "large_us_per_kib": statistics.median(large) * 1024 * 1e6 if large else 0.0}
    return per_kib


@pytest.mark.fuzz
def test_long_fuzz_run(fuzz_app, excel, config, state, tmp_path):
    record = Record()
    client = fuzz_app.test_client()
    for source in SOURCES:
        fuzz_source(client, source, LONG_EXAMPLES, record, _items(fuzz_app), derandomize=False)
    depth = _drain_into_workbook(fuzz_app, excel, config, state)
    refused = len([i for i in fuzz_app.extensions[EXTENSION].queue.items() if i["status"] != "done"])
    openpyxl.load_workbook(tmp_path / "pipeline.xlsx")
    slowest = max(record.timings, key=lambda item: item[1])
    again = []  # the ten slowest, each sent again alone: a hiccup (GC, another process) is not the request
    for _spent, source, url, data, headers in record.slowest:
        runs = []
        for _ in range(3):
            started = time.process_time()
            client.post(url, data=data, headers=headers)
            runs.append(time.process_time() - started)
        again.append((min(runs), len(data), source))
    worst_again = max(again)
    report = {
        "requests": record.requests,
        "statuses": {str(k): v for k, v in sorted(record.statuses.items())},
        "server_errors": sum(v for k, v in record.statuses.items() if k >= 500),
        "slowest_cpu_ms": round(slowest[1] * 1000, 2), "slowest_body_bytes": slowest[0],
        "slowest_source": slowest[2],
        "slowest_again_cpu_ms": round(worst_again[0] * 1000, 2), "slowest_again_body_bytes": worst_again[1],
        "slowest_again_source": worst_again[2],
        "largest_body_bytes": max(size for size, _, _ in record.timings),
        "queue_untried_after_drain": depth, "refused_by_the_sheet": refused,
        **{k: round(v, 1) for k, v in _linearity(record.timings).items()},
    }
    print(json.dumps(report, indent=2))  # noqa: T201 - the figures BENCHMARKS.md quotes
    if os.environ.get("SHEETSYNC_FUZZ_REPORT"):
        with open(os.environ["SHEETSYNC_FUZZ_REPORT"], "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
    assert report["server_errors"] == 0 and depth == 0
    assert record.requests >= 20_000


# -- regressions the fuzzing found -------------------------------------------------------------------

@pytest.mark.parametrize("value", [10**400, Decimal("sNaN")])
def test_an_integer_beyond_any_float_or_a_signalling_nan_is_no_date_or_number(value):
    """float() raised OverflowError / ValueError, which no caller expected (a 500 for a follow-up's Date)."""
    for parse in (values.parse_datetime, values.parse_number, values.parse_percent):
        with pytest.raises(values.ValueProblem):
            parse(value)


@pytest.mark.parametrize("parse, word", [(values.parse_amount, "an amount"), (values.parse_datetime, "a date")])
def test_long_text_is_refused_before_any_pattern_runs(parse, word):
    """'1' + 50,000 spaces + 'x' took minutes: the amount and time patterns backtrack quadratically."""
    with pytest.raises(values.ValueProblem, match=f"too long to be {word}"):
        parse("1" + " " * 50_000 + "x")

