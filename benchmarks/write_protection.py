"""What the cross-origin write protection costs a safe and an unsafe request, measured in-process.

Run it with ``.venv/bin/python benchmarks/write_protection.py`` (about a
minute). It generates one service, then calls, with the harness of
``in_process.py`` (no server, CPU time, fastest of several runs):

- the protection layer alone, around the bare ASGI app, against the bare app:
  the layer's own cost for each kind of request;
- the whole generated service with ``CSRF_PROTECTION`` on and off, at 1 and at
  10,000 configured origins.

An unsafe request goes to ``/health``, which has no write route, so one that
passes costs the router's ``405``; a refused one gets the layer's ``403``. A
refusal is logged as in production, through the rate-limited refusal log (so in
this flood most refusals are counted, not written), minus the handler's output.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import in_process
from apps import bare_app
from bench import TARGET, generate, origin_entries

PACKAGE = "bench_writes"
KINDS: in_process.Kinds = {
    "GET, allowed Origin": ("GET", {"Origin": TARGET}),
    "POST, allowed Origin, cross-site": ("POST", {"Origin": TARGET, "Sec-Fetch-Site": "cross-site"}),
    "POST, same-origin": ("POST", {"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"}),
    "POST, no Origin (not a browser)": ("POST", {}),
    "POST, foreign Origin (refused)": ("POST", {"Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"}),
}


def build(work: Path) -> dict[str, Any]:
    project = generate(work, {"project_name": "Bench Writes", "prod_origins": TARGET})
    sys.path.insert(0, str(project / "src"))
    from bench_writes.app import create_app
    from bench_writes.cross_origin_writes import CrossOriginWriteProtection, WriteRules
    from bench_writes.settings import Settings

    in_process.silence(PACKAGE)
    policy = Settings(app_env="production").cors_policy
    matcher = policy.matcher()
    many = origin_entries(10_000)
    return {
        "bare ASGI app": bare_app,
        "protection layer + bare app": CrossOriginWriteProtection(
            bare_app, WriteRules.for_policy(policy, lambda: matcher), policy.environment
        ),
        "generated service, protection off (1 origin)": create_app(
            Settings(app_env="production", csrf_protection=False)
        ),
        "generated service, protection on (1 origin)": create_app(Settings(app_env="production")),
        "generated service, protection off (10,000 origins)": create_app(
            Settings(app_env="production", cors_allow_origins=many, csrf_protection=False)
        ),
        "generated service, protection on (10,000 origins)": create_app(
            Settings(app_env="production", cors_allow_origins=many)
        ),
    }


def table(costs: in_process.Costs, apps: list[str]) -> str:
    lines = in_process.costs_table(costs, "app", apps, KINDS)
    layer = [costs[("protection layer + bare app", k)] - costs[("bare ASGI app", k)] for k in KINDS]
    lines.append("| **the layer's own cost** | " + " | ".join(f"**{cost:+.2f}**" for cost in layer) + " |")
    for count in ("1 origin", "10,000 origins"):
        on, off = f"generated service, protection on ({count})", f"generated service, protection off ({count})"
        cells = " | ".join(f"{costs[(on, k)] - costs[(off, k)]:+.2f}" for k in KINDS)
        lines.append(f"| service, on minus off, {count} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    heading = (
        "CPU µs per request, in-process, fastest of 9 runs of 4,000 calls\n"
        "(a POST that passes reaches the router's 405; a refused one gets the layer's 403, logged)"
    )
    in_process.print_costs(build, KINDS, heading, table)


if __name__ == "__main__":
    main()
