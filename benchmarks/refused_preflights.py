"""What a flood of refused preflights costs the generated service, measured in-process.

Run it with ``.venv/bin/python benchmarks/refused_preflights.py`` (about half a
minute). It generates one service, then calls it with the harness of
``in_process.py`` (no server, CPU time, fastest of several runs) with the same
preflight again and again, so that after the first one each is answered from
the preflight cache: an allowed one, for comparison, and refused ones.

A refusal is logged as in production, through the rate-limited refusal log, so
in this flood almost every line is counted, not written; what is left is the
request path's own cost (the handler's output is not part of it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import in_process
from bench import TARGET, generate

PACKAGE = "bench_refusals"
PREFLIGHT = {"Access-Control-Request-Method": "GET"}
KINDS: in_process.Kinds = {
    "allowed": ("OPTIONS", {**PREFLIGHT, "Origin": TARGET}),
    "refused origin": ("OPTIONS", {**PREFLIGHT, "Origin": "https://evil.test"}),
    "refused method and header": (
        "OPTIONS",
        {"Origin": TARGET, "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "X-Tenant"},
    ),
}


def build(work: Path) -> dict[str, Any]:
    project = generate(work, {"project_name": "Bench Refusals", "prod_origins": TARGET})
    sys.path.insert(0, str(project / "src"))
    from bench_refusals.app import create_app
    from bench_refusals.settings import Settings

    in_process.silence(PACKAGE)
    return {
        "production": create_app(Settings(app_env="production")),
        "development": create_app(Settings(app_env="development", cors_allow_origins=TARGET)),
    }


def main() -> None:
    heading = (
        "CPU µs per kept preflight answer, in-process, fastest of 9 runs of 4,000 calls\n"
        "(a flood: the refusal log drops almost every line)"
    )
    in_process.print_costs(build, KINDS, heading, table)


def table(costs: in_process.Costs, apps: list[str]) -> str:
    return "\n".join(in_process.costs_table(costs, "APP_ENV", apps, KINDS))


if __name__ == "__main__":
    main()
