"""The service's constant-cost OriginMatcher agrees with the reference oracle of the origin grammar.

The oracle (``support.origin_oracle``, also the adversarial battery's judge)
is written from the grammar in the generated README, not from the matcher's
code: it scans every entry, which is slow but easy to check by eye.
Hypothesis looks for an entry list and an ``Origin`` header, IPv6 hosts
included, on which the two disagree.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from .support.origin_oracle import reference_allows
from .support.template import service_module

cors_policy = service_module("cors_policy")
origin_grammar = service_module("origin_grammar")
origin_matcher = service_module("origin_matcher")
setting_values = service_module("setting_values")

SCHEMES = st.sampled_from(["http", "https", "HTTP", "ftp"])
LABELS = st.sampled_from(["a", "b", "app", "x-y", "1", "A", "-a", "a" * 63, "a" * 64, "*"])
PARENTS = st.sampled_from(["example.com", "example.org", "b.example.com", "localhost", "com", "127.0.0.1"])
PORTS = st.sampled_from(["", ":*", ":8080", ":80", ":443", ":0", ":08080", ":65535", ":65536", ":", ":x"])
SUFFIXES = st.sampled_from(["", "", "", "/", "/path", ".", "?q"])


@st.composite
def hosts(draw: st.DrawFn) -> str:
    return draw(
        st.one_of(
            PARENTS,
            st.builds(lambda label, parent: f"{label}.{parent}", LABELS, PARENTS),
            st.builds(lambda a, b, parent: f"{a}.{b}.{parent}", LABELS, LABELS, PARENTS),
            st.sampled_from(["[::1]", "[2001:db8::1]"]),
        )
    )


@st.composite
def texts(draw: st.DrawFn) -> str:
    """Origin-like text: entries when normalised, headers when sent as they are."""
    return f"{draw(SCHEMES)}://{draw(hosts())}{draw(PORTS)}{draw(SUFFIXES)}"


@st.composite
def entry_lists(draw: st.DrawFn) -> list[str]:
    """Canonical entries as the service's settings would hold them (refused ones dropped)."""
    raw = draw(st.lists(texts(), max_size=12))
    if draw(st.integers(0, 19)) == 0:
        raw.append("*")
    canonical = []
    for text in raw:
        try:
            canonical.append(origin_grammar.normalise_origin(text, "entries").text)
        except setting_values.PolicyError:
            continue
    return canonical


@st.composite
def headers(draw: st.DrawFn, entries: list[str]) -> str:
    """An Origin header: often derived from an entry, so that matches are common."""
    if entries and draw(st.booleans()):
        entry = draw(st.sampled_from(entries))
        label = draw(LABELS)
        port = draw(st.sampled_from(["", ":3000", ":8080", ":80", ":443", ":65536", ":0"]))
        return entry.replace("*.", f"{label}.", 1).replace(":*", port, 1)
    return draw(texts())


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[str], str]:
    entries = draw(entry_lists())
    return entries, draw(headers(entries))


@settings(max_examples=500, deadline=None)
@given(cases())
@example((["https://*.example.com"], "https://a.b.example.com"))
@example((["https://*.example.com"], "https://example.com"))
@example((["https://*.example.com"], "https://A.example.com"))
@example((["http://localhost:*"], "http://localhost:80"))
@example((["http://localhost:*"], "http://localhost"))
@example((["http://[::1]:*"], "http://[::1]:8000"))
@example((["https://*.example.com:*"], "https://a.example.com:8443"))
@example((["https://example.com:*"], "https://example.com:*"))
def test_the_matcher_agrees_with_the_reference(case: tuple[list[str], str]) -> None:
    entries, origin = case

    assert origin_matcher.OriginMatcher(entries)(origin) is reference_allows(entries, origin)


def test_exact_entries_and_patterns_are_kept_in_hash_sets() -> None:
    entries = [f"https://tenant-{n}.example.com" for n in range(1000)] + [
        f"https://*.customer-{n}.example.net" for n in range(1000)
    ]

    matcher = origin_matcher.OriginMatcher(entries)

    assert isinstance(matcher._exact, frozenset)
    assert len(matcher._exact) == 1000
    assert isinstance(matcher._any_label, set)
    assert len(matcher._any_label) == 1000
    assert matcher("https://tenant-999.example.com")
    assert matcher("https://shop.customer-999.example.net")
    assert not matcher("https://shop.customer-1000.example.net")


PATHS = st.sampled_from(["/", "/public", "/public/x", "/publicity", "/status", "/status/", "/a/public", "/public/../x"])


@st.composite
def rule_cases(draw: st.DrawFn) -> tuple[list[str], list[str], str, str | None]:
    """Partner entries, public prefixes, a request path and an Origin header (or none)."""
    partners = draw(entry_lists())
    prefixes = draw(st.lists(st.sampled_from(["/public", "/status", "/a/b"]), max_size=2, unique=True))
    origin = draw(st.one_of(st.none(), headers(partners)))
    return partners, prefixes, draw(PATHS), origin


def reference_rule(partners: list[str], prefixes: list[str], path: str, origin: str | None) -> str:
    """The rule the README describes: a path under a public prefix, then a partner origin, then the frontend."""
    segments = path.split("/")
    if ".." not in segments and "." not in segments and any(path == p or path.startswith(p + "/") for p in prefixes):
        return "public"
    if origin is not None and reference_allows(partners, origin):
        return "partner"
    return "frontend"


@settings(max_examples=300, deadline=None)
@given(rule_cases())
@example((["https://*.partner.example"], ["/public"], "/publicity", "https://a.partner.example"))
@example((["https://dashboard.partner.example"], ["/public"], "/public/x", "https://dashboard.partner.example"))
def test_rule_selection_agrees_with_the_reference(case: tuple[list[str], list[str], str, str | None]) -> None:
    partners, prefixes, path, origin = case
    policy = cors_policy.CorsPolicy(
        environment=cors_policy.Environment.PRODUCTION,
        allow_origins=("https://app.example.com",),
        allow_credentials=True,
        allow_methods=("GET",),
        allow_headers=(),
        expose_headers=(),
        max_age=600,
        partner_origins=tuple(partners),
        public_paths=tuple(prefixes),
    )

    assert cors_policy.RuleSelector(policy)(path, origin) == reference_rule(partners, prefixes, path, origin)
