"""An attacker's battery, over real HTTP, against every generated variant in every environment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from .support import broken_services
from .support.commands import service_environment
from .support.cors_battery import (
    HOMOGLYPHS,
    Attack,
    IntendedPolicy,
    Origin,
    acceptable_allow_origins,
    adversarial_origins,
    audit,
    audit_writes,
    check_origin,
    concrete_origin,
)
from .support.origin_oracle import entry_parts, reference_allows
from .support.servers import generated_service, uvicorn_server
from .support.template import TEMPLATE
from .support.variants import ENVIRONMENT_ANSWERS, VARIANTS, intended_policy

LIVE = [(variant, environment) for variant in sorted(VARIANTS) for environment in sorted(ENVIRONMENT_ANSWERS)]


@pytest.fixture(scope="module", params=LIVE, ids=["-".join(p) for p in LIVE])
def live(
    request: pytest.FixtureRequest, generated_variant: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, IntendedPolicy]]:
    """A client of a generated variant served by uvicorn with ``APP_ENV`` set, and what it is meant to allow."""
    variant, environment = request.param
    env = {**service_environment(), "APP_ENV": environment}
    log = tmp_path_factory.mktemp("logs") / f"{variant}-{environment}.log"
    with (
        generated_service(generated_variant(variant), env, log) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield client, intended_policy(VARIANTS[variant], environment)


def test_every_variant_resists_the_battery(live: tuple[httpx.Client, IntendedPolicy]) -> None:
    client, policy = live

    findings = audit(client, policy, adversarial_origins(policy))

    assert [str(finding) for finding in findings] == []


def test_every_variant_refuses_the_battery_as_forged_writes(live: tuple[httpx.Client, IntendedPolicy]) -> None:
    client, policy = live

    findings = audit_writes(client, policy, adversarial_origins(policy))

    assert [str(finding) for finding in findings] == []


def origins_near(policy: IntendedPolicy) -> st.SearchStrategy[Origin]:
    """Origin strings built from the pieces of the answered origins, mutated, or random."""
    allowed = [concrete_origin(entry) for entry in policy.origins if entry.strip() != "*"] or ["https://a.example"]
    labels = sorted({label for origin in allowed for label in entry_parts(origin)[1].split(".")})
    label = st.one_of(
        st.sampled_from([*labels, "evil", "xn--bcher-kva", "a" * 63, "a" * 64, "", "-x", "x_y", "*"]),
        st.from_regex(r"[a-zA-Z0-9_-]{1,8}", fullmatch=True),
    )
    ports = sorted({entry_parts(origin)[2] for origin in allowed} | {"", "0", "80", "443", "8443", "65536", "03000"})
    structured = st.builds(
        "{}://{}{}".format,
        st.sampled_from(["http", "https", "HTTP", "Https", "ftp", "null", ""]),
        st.lists(label, min_size=1, max_size=5).map(".".join),
        st.one_of(st.sampled_from(ports), st.integers(0, 70000).map(str)).map(lambda p: f":{p}" if p else ""),
    )
    edit_char = st.sampled_from([*"./:@-_ *#?%\t", "A", "\u00e9", *HOMOGLYPHS.values()])
    mutated = st.builds(mutate, st.sampled_from(allowed), st.integers(0, 60), st.integers(0, 2), edit_char)
    printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
    shapes = [allowed_shapes(entry) for entry in policy.origins if entry.strip() != "*"]
    kinds = [st.one_of(shapes) if shapes else st.sampled_from(allowed), structured, mutated, printable]
    return st.sampled_from(kinds).flatmap(lambda kind: kind).map(to_header)


def allowed_shapes(entry: str) -> st.SearchStrategy[str]:
    """Origins an entry allows: any label for ``*.``, any port for ``:*``."""
    scheme, host, port = entry_parts(entry)
    hosts = st.just(host)
    if host.startswith("*."):
        hosts = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True).map(lambda label: label + host[1:])
    ports = st.just(port)
    if port == "*":
        ports = st.one_of(st.just(""), st.integers(1, 65535).map(str))
    return st.builds(lambda h, p: f"{scheme}://{h}" + (f":{p}" if p else ""), hosts, ports)


def mutate(origin: str, position: int, operation: int, char: str) -> str:
    """Insert, replace or delete one character of an allowed origin."""
    i = position % (len(origin) + 1)
    return [origin[:i] + char + origin[i:], origin[:i] + char + origin[i + 1 :], origin[:i] + origin[i + 1 :]][
        operation
    ]


def to_header(origin: str) -> Origin:
    return origin if origin.isascii() else origin.encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_allow_origin_is_the_exact_origin_only_when_the_oracle_allows_it(
    live: tuple[httpx.Client, IntendedPolicy], data: st.DataObject
) -> None:
    client, policy = live
    origin = data.draw(origins_near(policy), label="origin")
    event("allowed" if acceptable_allow_origins(policy, origin) != {None} else "refused")

    assert [str(finding) for finding in check_origin(client, policy, Attack("generated", origin))] == []


BROKEN = {
    "unescaped_regex": [
        "prefix lookalike",
        "prefix lookalike with hyphen",
        "extra label",
        "dot 2 replaced",
        "very long subdomain chain",
    ],
    "all_origins_with_credentials": ["null", "unrelated https origin", "suffix lookalike", "http twin", "other port"],
    "trusts_null_and_http_twin": ["null", "http twin"],
    "tells_refused_origins_the_configuration": ["null", "unrelated https origin", "suffix lookalike", "other port"],
}


@pytest.mark.parametrize("factory", sorted(BROKEN))
def test_the_battery_catches_a_broken_service(factory: str, tmp_path: Path) -> None:
    policy = IntendedPolicy(origins=(broken_services.INTENDED_ORIGIN,), credentials=True)
    app = f"tests.support.broken_services:{factory}"
    log = tmp_path / "server.log"

    with (
        uvicorn_server(app, app_dir=TEMPLATE, cwd=TEMPLATE, env=service_environment(), log=log, factory=True) as url,
        httpx.Client(base_url=url) as client,
    ):
        findings = audit(client, policy, adversarial_origins(policy))

    flagged = {finding.attack.case for finding in findings}
    assert set(BROKEN[factory]) <= flagged
    assert "allowed origin (control)" not in flagged


def test_the_write_battery_catches_a_naive_write_check(tmp_path: Path) -> None:
    policy = IntendedPolicy(origins=(broken_services.INTENDED_ORIGIN,), credentials=True, methods=("GET", "POST"))
    app = "tests.support.broken_services:suffix_checked_writes"

    with (
        uvicorn_server(
            app, app_dir=TEMPLATE, cwd=TEMPLATE, env=service_environment(), log=tmp_path / "log", factory=True
        ) as url,
        httpx.Client(base_url=url) as client,
    ):
        findings = audit_writes(client, policy, adversarial_origins(policy))

    flagged = {(finding.attack.case, finding.problem.split(" answered")[0]) for finding in findings}
    assert {
        ("prefix lookalike", "cross-site POST"),
        ("extra label", "cross-site POST"),
        ("http twin", "cross-site POST"),
        ("upper-case scheme", "cross-site POST"),
        ("allowed origin (control)", "cross-site PROPPATCH"),
    } <= flagged
    assert ("allowed origin (control)", "cross-site POST") not in flagged
    assert ("null", "cross-site POST") not in flagged


@pytest.mark.parametrize(
    ("entries", "origin", "allowed"),
    [
        (["https://app.example.com"], "https://app.example.com", True),
        (["https://App.Example.com:443/"], "https://app.example.com", True),
        (["https://app.example.com"], "https://app.example.com:443", False),
        (["https://app.example.com"], "http://app.example.com", False),
        (["https://app.example.com"], "https://APP.example.com", False),
        (["https://*.example.com"], "https://a.example.com", True),
        (["https://*.example.com"], "https://a.b.example.com", False),
        (["https://*.example.com"], "https://example.com", False),
        (["https://*.example.com"], "https://evilexample.com", False),
        (["https://*.example.com"], "https://a.example.com:8443", False),
        (["http://localhost:*"], "http://localhost", True),
        (["http://localhost:*"], "http://localhost:5173", True),
        (["http://localhost:*"], "http://localhost:80", False),
        (["http://localhost:*"], "http://localhost:070", False),
        (["http://localhost:*"], "http://localhost.evil.test:5173", False),
        (["*"], "null", True),
        ([], "https://app.example.com", False),
    ],
)
def test_the_oracle_reads_the_grammar_plainly(entries: list[str], origin: str, allowed: bool) -> None:
    assert reference_allows(entries, origin) is allowed
