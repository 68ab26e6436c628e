"""The refusal log's rate limit: a burst, then a steady rate, then one line counting what was dropped."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from {{ cookiecutter.package_name }}.refusal_log import RefusalLog

LOGGER = "{{ cookiecutter.package_name }}.test_refusal_log"


@dataclass
class Line:
    """A refusal as the log asks for it, counting how often it was asked."""

    message: str
    values: dict[str, str] = field(default_factory=dict)
    asked: int = 0

    def __call__(self) -> Line:
        self.asked += 1
        return self

    def log_line(self) -> str:
        return self.message

    def fields(self) -> dict[str, str]:
        return self.values


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
    written = [log.warning(Line(f"refused {n}", {"n": str(n)})) for n in range(8)]

    assert written == [True] * 5 + [False] * 3
    assert lines(caplog) == [f"refused {n}" for n in range(5)]
    assert log.suppressed == 3


def test_logging_resumes_at_the_rate_with_one_count_of_the_dropped(
    log: RefusalLog, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(12):
        log.warning(Line(f"refused {n}"))
    clock.now += 0.2

    assert log.warning(Line("refused again")) is True
    assert log.warning(Line("and again")) is False, "0.2 s at 5 a second earns one line"
    assert lines(caplog)[5:] == [
        "suppressed 7 refusal log line(s) since the last one written (at most 5 a second)",
        "refused again",
    ]
    assert log.suppressed == 1
    summary = [record for record in caplog.records if record.name == LOGGER][5]
    assert summary.__dict__["refusal"] == {"suppressed": "7"}


def test_a_quiet_second_refills_the_burst_but_no_more(log: RefusalLog, clock: Clock) -> None:
    for _ in range(5):
        log.warning(Line("refused"))
    clock.now += 3600

    assert [log.warning(Line("refused")) for _ in range(6)] == [True] * 5 + [False]


def test_fields_travel_on_the_record(log: RefusalLog, caplog: pytest.LogCaptureFixture) -> None:
    log.warning(Line('origin="x"', {"origin": "x"}))

    [record] = [record for record in caplog.records if record.name == LOGGER]
    assert record.levelno == logging.WARNING
    assert record.__dict__["refusal"] == {"origin": "x"}
    assert record.getMessage() == 'origin="x"', "a message holding % or quotes is written as it is"


def test_a_dropped_line_is_never_asked_for(log: RefusalLog, caplog: pytest.LogCaptureFixture) -> None:
    """Working out a refusal's line costs time on the request path: only a line written is worth it."""
    refusals = [Line(f"refused {n}") for n in range(8)]

    written = [log.warning(refusal) for refusal in refusals]

    assert not all(written), "the burst is spent: some lines are dropped"
    assert [refusal.asked for refusal in refusals] == [1 if was_written else 0 for was_written in written]
    assert lines(caplog) == [refusal.message for refusal in refusals if refusal.asked]
