"""How the template's tests are spread over two pytest-xdist workers: the longest first, shared set-ups together.

Under ``pytest -n 2`` each worker takes the next test of the collection
whenever it is nearly done with its own (``LongestFirst``). A long test near the
end keeps one worker busy while the other has nothing left to take; started
first, the long tests overlap each other, and the short ones fill the gaps at
the end. ``LONGEST`` names the tests that take tens of seconds each on two
cores (``pytest -n 2 --durations=40``), longest first; every other test keeps
pytest's order, after them. ``SHARED_SET_UP`` keeps the tests of one costly
module-scoped fixture (a served variant, a ``uv lock``) on one worker, so that
it is set up once and not once per worker.
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

LONGEST = [
    "test_generation.py::test_make_install_then_check_works_from_scratch",
    "test_generation.py::test_generated_tests_pass",
    "test_browser.py::test_the_generated_browser_tests_pass_in_chromium",
    "test_generation.py::test_uv_sync_and_run_work",
    "test_browser.py::",
    "test_cruft.py::",
    "test_hostile_answers.py::test_json_array_answers_land_normalised_in_every_file",
    "test_hostile_answers.py::test_free_text_is_held_exactly_or_refused",
    "test_origin_matcher.py::test_the_matcher_agrees_with_the_reference",
    "test_registry_replicas.py::",
    "test_security_scanners.py::",
    "test_scanner.py::",
    "test_generation.py::test_generated_code_is_clean",
]
"""``<module>::<test function>`` prefixes, longest first."""


SHARED_SET_UP = {
    "test_adversarial.py": "parameters",  # a server per variant and environment (the ``live`` fixture)
    "test_cors_cli.py": "module",  # the module's servers
    "test_locked_build.py": "module",  # one ``uv lock``
    "test_running_service.py": "module",  # one server
    "test_served_rules.py": "module",  # one server
}
"""Modules whose tests share a costly module-scoped fixture, and which of their tests go to one worker together:
those with the same parameters, or the whole module."""


class LongestFirst(LoadScopeScheduling):
    """pytest-xdist's scheduler of work units, one unit a test but for the shared set-ups, in collection order."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        config.option.loadscopereorder = False  # keep the collection's order: the longest first

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid)


def work_unit(nodeid: str) -> str:
    """The work unit of a test: its shared set-up's (``SHARED_SET_UP``) or its own."""
    path, _, test = nodeid.partition("::")
    module = path.rpartition("/")[2]
    shared = SHARED_SET_UP.get(module)
    parameters = test.partition("[")[2]
    if shared == "module":
        return module
    if shared == "parameters" and parameters:
        return f"{module}[{parameters}"
    return nodeid


def rank(item: pytest.Item) -> int:
    """The place of ``item``'s entry in ``LONGEST``; every other test comes after them all."""
    name = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
    return next((place for place, prefix in enumerate(LONGEST) if name.startswith(prefix)), len(LONGEST))


def longest_first(items: list[pytest.Item]) -> None:
    """Put the longest tests first; the sort is stable, so the rest keep pytest's order."""
    items.sort(key=rank)
