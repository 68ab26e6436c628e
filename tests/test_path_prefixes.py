"""The service's path-prefix grammar and matcher agree with a plain reference.

``CSRF_EXEMPT_PATHS`` (and, later, public paths) name path prefixes that cover
a path on ``/`` boundaries. The reference below reads that rule plainly: a
prefix covers a path equal to it or starting with it and a ``/``, the longest
such prefix wins, and a path with a ``.`` or ``..`` segment is covered by none.
Hypothesis looks for prefixes and a path on which the service's
``PathPrefixes`` (split once, one lookup per prefix depth) disagrees.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import example, given, settings
from hypothesis import strategies as st

from .support.template import service_module

path_prefixes = service_module("path_prefixes")
setting_values = service_module("setting_values")


def reference_cover(prefixes: Sequence[str], path: str) -> str | None:
    if any(segment in (".", "..") for segment in path.split("/")):
        return None
    covering = [p for p in prefixes if p == "/" or path == p or path.startswith(p + "/")]
    return max(covering, key=len, default=None) if path.startswith("/") else None


SEGMENTS = st.sampled_from(["hooks", "hooksy", "hook", "a", "b", "stripe", "v1", ".", "..", "", "%2e", "~x"])
PATHS = st.lists(SEGMENTS, max_size=6).map(lambda segments: "/" + "/".join(segments))
PREFIXES = st.lists(SEGMENTS.filter(lambda s: s not in ("", ".", "..", "%2e")), min_size=1, max_size=3).map(
    lambda segments: "/" + "/".join(segments)
)


@settings(max_examples=200, deadline=None)
@given(prefixes=st.lists(PREFIXES, max_size=4), path=PATHS)
@example(prefixes=["/hooks"], path="/hooksy")
@example(prefixes=["/hooks", "/hooks/stripe"], path="/hooks/stripe/x")
@example(prefixes=["/hooks"], path="/hooks/../account")
def test_the_matcher_agrees_with_the_reference(prefixes: list[str], path: str) -> None:
    assert path_prefixes.PathPrefixes(prefixes)(path) == reference_cover(prefixes, path)


ENTRY_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)


@settings(max_examples=200, deadline=None)
@given(entry=st.one_of(ENTRY_TEXT, ENTRY_TEXT.map(lambda text: "/" + text), PATHS))
def test_a_canonical_prefix_is_accepted_as_it_is_and_refusals_name_the_setting(entry: str) -> None:
    try:
        canonical = path_prefixes.normalise_path_prefix(entry, "CSRF_EXEMPT_PATHS")
    except setting_values.PolicyError as refusal:
        assert str(refusal).startswith(f"CSRF_EXEMPT_PATHS: {entry!r} ")
        assert "\n" not in str(refusal)
        return
    assert path_prefixes.normalise_path_prefix(canonical, "CSRF_EXEMPT_PATHS") == canonical
    assert canonical == "/" or not canonical.endswith("/")
    assert path_prefixes.PathPrefixes([canonical])(canonical) == canonical
