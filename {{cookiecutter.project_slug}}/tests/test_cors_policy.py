"""The origin and path-prefix grammars and their matchers, independent of any configuration."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.origin_grammar import normalise_origin, normalise_origins
from {{ cookiecutter.package_name }}.origin_matcher import OriginMatcher
from {{ cookiecutter.package_name }}.path_prefixes import PathPrefixes, normalise_path_prefix
from {{ cookiecutter.package_name }}.setting_values import PolicyError


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [
        ("https://app.example.com", "https://app.example.com"),
        ("HTTPS://App.Example.COM/", "https://app.example.com"),
        ("https://app.example.com:443", "https://app.example.com"),
        ("http://localhost:80", "http://localhost"),
        ("http://localhost:05173", "http://localhost:5173"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("http://[::1]:3000", "http://[::1]:3000"),
        ("https://*.example.com", "https://*.example.com"),
        ("http://localhost:*", "http://localhost:*"),
        ("*", "*"),
    ],
)
def test_accepted_entries_and_their_canonical_form(entry: str, canonical: str) -> None:
    assert normalise_origin(entry, "SETTING").text == canonical


@pytest.mark.parametrize(
    "entry",
    [
        "app.example.com",
        "ftp://app.example.com",
        "https://app.example.com/path",
        "https://app.example.com?query",
        "https://user@app.example.com",
        "https://app.example.com.",
        "https://*.com",
        "https://*",
        "https://*example.com",
        "https://app.*.example.com",
        "https://*.10.0.0.1",
        "https://bücher.example",
        "https://app.example.com:0",
        "https://app.example.com:65536",
        "https://app_name.example.com",
        "https://",
        "https://app.example.com:8\u0663",
        "http://[::1",
        "http://[::1]x",
        "https://1.2.3",
        "https://" + "a." * 127 + "com",
    ],
)
def test_refused_entries_name_the_setting(entry: str) -> None:
    with pytest.raises(PolicyError, match=r"^SETTING: "):
        normalise_origin(entry, "SETTING")


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("https://*.co.uk", "public suffix"),
        ("https://*.github.io", "public suffix"),
        ("https://*.herokuapp.com", "public suffix"),
        ("https://*.2.3.4", "numeric address"),
    ],
)
def test_wildcards_anyone_could_satisfy_are_refused(entry: str, reason: str) -> None:
    with pytest.raises(PolicyError, match=reason):
        normalise_origin(entry, "SETTING")


@pytest.mark.parametrize("entry", ["https://*.tenants.github.io", "https://*.example.co.uk", "http://*.dev.localhost"])
def test_wildcards_under_a_registrable_domain_are_accepted(entry: str) -> None:
    assert normalise_origin(entry, "SETTING").text == entry


def test_a_list_drops_duplicates_after_normalising() -> None:
    origins = normalise_origins("https://a.example.com, HTTPS://A.EXAMPLE.COM/, https://b.example.com", "SETTING")

    assert [o.text for o in origins] == ["https://a.example.com", "https://b.example.com"]


def test_a_malformed_json_list_is_refused() -> None:
    with pytest.raises(PolicyError, match="JSON array"):
        normalise_origins('["https://a.example.com"', "SETTING")


SUBDOMAINS = OriginMatcher(["https://*.example.com"])
ANY_PORT = OriginMatcher(["http://localhost:*"])


@pytest.mark.parametrize("origin", ["https://a.example.com", "https://tenant-42.example.com"])
def test_a_host_wildcard_matches_one_label(origin: str) -> None:
    assert SUBDOMAINS(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://example.com",
        "https://a.b.example.com",
        "https://evilexample.com",
        "https://example.com.evil.net",
        "http://a.example.com",
        "https://a.example.com:8443",
        "https://A.example.com",
        "https://-a.example.com",
        "https://a.example.com/",
        " https://a.example.com",
        "null",
    ],
)
def test_a_host_wildcard_matches_nothing_else(origin: str) -> None:
    assert not SUBDOMAINS(origin)


@pytest.mark.parametrize("origin", ["http://localhost", "http://localhost:3000", "http://localhost:65535"])
def test_a_port_wildcard_matches_any_port_or_none(origin: str) -> None:
    assert ANY_PORT(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:80",
        "http://localhost:03000",
        "http://localhost:",
        "https://localhost:3000",
        "http://localhost.evil.test",
    ],
)
def test_a_port_wildcard_matches_nothing_else(origin: str) -> None:
    assert not ANY_PORT(origin)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://[::1]:8000", True),
        ("http://[::1]", True),
        ("http://[::1", False),
        ("http://[::1]x", False),
        ("http://[::1]:", False),
        ("http://[::2]:8000", False),
    ],
)
def test_an_ipv6_port_wildcard_reads_the_bracketed_address_whole(origin: str, allowed: bool) -> None:
    assert OriginMatcher(["http://[::1]:*"])(origin) is allowed


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [("/hooks", "/hooks"), ("/hooks/", "/hooks"), ("/hooks/stripe-v2", "/hooks/stripe-v2"), ("/", "/")],
)
def test_accepted_path_prefixes_and_their_canonical_form(entry: str, canonical: str) -> None:
    assert normalise_path_prefix(entry, "SETTING") == canonical


@pytest.mark.parametrize(
    "entry",
    ["hooks", "/hooks?x=1", "/hooks#a", "/hooks/*", "/ho oks", "/hooks%2Fx", "/hööks", "//hooks", "/a/./b", "/a/.."],
)
def test_refused_path_prefixes_name_the_setting(entry: str) -> None:
    with pytest.raises(PolicyError, match=r"^SETTING: "):
        normalise_path_prefix(entry, "SETTING")


@pytest.mark.parametrize(
    ("path", "covered_by"),
    [
        ("/hooks", "/hooks"),
        ("/hooks/", "/hooks"),
        ("/hooks/stripe", "/hooks"),
        ("/api/partner/orders/1", "/api/partner"),
        ("/hooksy", None),
        ("/hook", None),
        ("/api", None),
        ("/api/partners", None),
        ("/", None),
        ("/hooks/../account", None),
        ("/hooks/./x", None),
        ("/x/hooks", None),
        ("/hooks" + "/a" * 10_000, "/hooks"),
    ],
)
def test_a_path_prefix_covers_paths_on_segment_boundaries(path: str, covered_by: str | None) -> None:
    assert PathPrefixes(["/hooks", "/api/partner"])(path) == covered_by
