"""The refusal log's rate limit: a burst, then a steady rate, then one line counting what was dropped."""

from __future__ import annotations

import logging

import pytest

from {{ cookiecutter.package_name }}.refusal_log import RefusalLog

LOGGER = "{{ cookiecutter.package_name }}.test_refusal_log"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def log(clock: Clock) -> RefusalLog:
    return RefusalLog(logging.getLogger(LOGGER), "refusal", per_second=5, burst=5, clock=clock)


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == LOGGER]


def test_a_burst_is_written_then_the_rest_is_dropped(log: RefusalLog, caplog: pytest.LogCaptureFixture) -> None:
    written = [log.warning(f"refused {n}", {"n": str(n)}) for n in range(8)]

    assert written == [True] * 5 + [False] * 3
    assert lines(caplog) == [f"refused {n}" for n in range(5)]
    assert log.suppressed == 3


def test_logging_resumes_at_the_rate_with_one_count_of_the_dropped(
    log: RefusalLog, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(12):
        log.warning(f"refused {n}", {})
    clock.now += 0.2

    assert log.warning("refused again", {}) is True
    assert log.warning("and again", {}) is False, "0.2 s at 5 a second earns one line"
    assert lines(caplog)[5:] == [
        "suppressed 7 refusal log line(s) since the last one written (at most 5 a second)",
        "refused again",
    ]
    assert log.suppressed == 1
    summary = [record for record in caplog.records if record.name == LOGGER][5]
    assert summary.__dict__["refusal"] == {"suppressed": "7"}


def test_a_quiet_second_refills_the_burst_but_no_more(log: RefusalLog, clock: Clock) -> None:
    for _ in range(5):
        log.warning("refused", {})
    clock.now += 3600

    assert [log.warning("refused", {}) for _ in range(6)] == [True] * 5 + [False]


def test_fields_travel_on_the_record(log: RefusalLog, caplog: pytest.LogCaptureFixture) -> None:
    log.warning('origin="x"', {"origin": "x"})

    [record] = [record for record in caplog.records if record.name == LOGGER]
    assert record.levelno == logging.WARNING
    assert record.__dict__["refusal"] == {"origin": "x"}
    assert record.getMessage() == 'origin="x"', "a message holding % or quotes is written as it is"
