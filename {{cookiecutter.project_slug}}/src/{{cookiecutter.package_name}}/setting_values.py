"""Reading a setting's plain values: lists, HTTP tokens and seconds, each refused with one :class:`PolicyError`.

Every checker of this service (the origin and path grammars, the CORS rules)
refuses a value with a :class:`PolicyError`, whose message names the setting,
the refused value and what to write instead. Standard library only: the
project generator's hook loads this file too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

ASCII_DIGITS = re.compile(r"[0-9]+")
_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TOKEN_EXAMPLES = {"method": "GET", "header": "Authorization"}
CHROMIUM_MAX_AGE = 7200
"""Chromium caches a preflight answer for at most this many seconds, whatever ``max_age`` says."""


class PolicyError(ValueError):
    """A setting breaks the grammar or a safety rule.

    The message names the setting, the refused value and what to write instead.
    """

    def __init__(self, setting: str, value: str, problem: str, fix: str) -> None:
        self.setting = setting
        self.value = value
        super().__init__(f"{setting}: {value!r} {problem}. {fix}")


def split_list(value: str | Iterable[str], setting: str) -> list[str]:
    """Read a list given as a JSON array, as comma-separated text, or as a sequence."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = None
            if not isinstance(decoded, list) or not all(isinstance(item, str) for item in decoded):
                raise PolicyError(
                    setting,
                    value,
                    "is not a JSON array of strings",
                    'Write a comma-separated list, or a JSON array such as ["a", "b"]',
                )
            items: Iterable[str] = decoded
        else:
            items = text.split(",")
    else:
        items = value
    return [item.strip() for item in items if item.strip()]


def normalise_tokens(value: str | Iterable[str], setting: str, kind: str) -> list[str]:
    """Check a list of HTTP methods or header names (RFC 9110 tokens)."""
    tokens: dict[str, str] = {}
    for item in split_list(value, setting):
        if not _HTTP_TOKEN.fullmatch(item):
            raise PolicyError(
                setting,
                item,
                f"is not a valid HTTP {kind}",
                f"Use a single {kind} such as {_TOKEN_EXAMPLES[kind]}, separated by commas",
            )
        canonical = item.upper() if kind == "method" else item
        tokens.setdefault(canonical.lower(), canonical)
    return list(tokens.values())


def parse_max_age(value: str | int, setting: str) -> int:
    """Check the preflight cache lifetime, in whole seconds."""
    text = str(value).strip()
    if isinstance(value, bool) or not ASCII_DIGITS.fullmatch(text):
        raise PolicyError(
            setting, str(value), "is not a whole, non-negative number of seconds", "Write, for example, 600"
        )
    return int(text)
