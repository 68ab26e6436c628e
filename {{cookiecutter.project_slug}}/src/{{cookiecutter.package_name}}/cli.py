"""``{{ cookiecutter.package_name }}`` (or ``python -m {{ cookiecutter.package_name }}``): the service's command line.

- ``cors explain ORIGIN``: what a browser at ORIGIN gets from this service, and why;
- ``cors verify BASE_URL``: whether the service running at BASE_URL answers as configured;
{%- if cookiecutter.origin_registry == "database" %}
- ``origins add|remove|list``: the origins stored in the database.
{%- endif %}

Every command reads the same settings as the service (``APP_ENV``,
``CORS_*``, ``.env``). ``cors`` exits with 0 when allowed or passed, 1 when
refused or failed, 2 on bad usage or a refused configuration.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from .cors_explain import explain
from .cors_policy import Environment
from .cors_reasons import CrossOriginRequest
from .cors_verify import VerifyUsageError, verify
{%- if cookiecutter.origin_registry == "database" %}
from .registry_cli import add_commands as add_registry_commands
{%- endif %}
from .setting_values import PolicyError, normalise_tokens
from .settings import ConfigurationError, load_other_policies, load_settings

PROGRAM = "{{ cookiecutter.package_name }}"
USAGE_ERROR = 2
ENVIRONMENTS = [str(environment) for environment in Environment]


class Parser(argparse.ArgumentParser):
    """argparse, reporting bad usage on one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see --help)\n")


def http_tokens(kind: str) -> Callable[[str], list[str]]:
    """An argparse type: a comma-separated list of HTTP methods or header names, checked as the settings are."""

    def read(text: str) -> list[str]:
        try:
            tokens = normalise_tokens(text, f"--{kind}", kind)
        except PolicyError as error:
            raise argparse.ArgumentTypeError(str(error).removeprefix(f"--{kind}: ")) from None
        if not tokens:
            raise argparse.ArgumentTypeError(f"give a {kind}")
        return tokens

    return read


def http_method(text: str) -> str:
    methods = http_tokens("method")(text)
    if len(methods) > 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give one method")
    return methods[0]


def request_path(text: str) -> str:
    if not text.startswith("/") or not text.isascii() or not text.isprintable() or " " in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a path; write, for example, /health")
    return text


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 60:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 60")
    return value


def parser() -> Parser:
    root = Parser(prog=PROGRAM, description={{ ("Manage " ~ cookiecutter.project_name ~ ".") | python_string }})
    commands = root.add_subparsers(dest="group", required=True)
    cors = commands.add_parser("cors", help="explain and verify the service's CORS answers")
    actions = cors.add_subparsers(dest="action", required=True)

    explaining = actions.add_parser("explain", help="what a browser at ORIGIN gets from this service, and why")
    explaining.set_defaults(run=run_explain)
    explaining.add_argument("origin", metavar="ORIGIN", help="the page's origin, as in https://app.example.com")
    explaining.add_argument("--method", type=http_method, default="GET", help="the request's method (GET)")
    explaining.add_argument(
        "--header",
        type=http_tokens("header"),
        action="extend",
        default=[],
        metavar="H",
        help="request headers the page sets (repeat, or separate with commas)",
    )
    explaining.add_argument("--credentials", action="store_true", help="the page sends cookies or Authorization")

    verifying = actions.add_parser("verify", help="check the answers of the service running at BASE_URL")
    verifying.set_defaults(run=run_verify)
    verifying.add_argument("base_url", metavar="BASE_URL", help="as in https://staging.example.com")
    verifying.add_argument("--timeout", type=seconds, default=5.0, help="seconds each request may take (5)")

    for command in (explaining, verifying):
        command.add_argument("--env", choices=ENVIRONMENTS, help="the APP_ENV to use (default: the APP_ENV setting)")
        command.add_argument("--path", type=request_path, default="/health", help="the path to ask (/health)")
        command.add_argument("--json", action="store_true", help="print one JSON object")
{%- if cookiecutter.origin_registry == "database" %}
    add_registry_commands(commands, PROGRAM)
{%- endif %}
    return root


def run_explain(arguments: argparse.Namespace) -> int:
    request = CrossOriginRequest(
        origin=arguments.origin,
        method=arguments.method,
        headers=tuple(arguments.header),
        credentials=arguments.credentials,
    )
    environment = None if arguments.env is None else Environment(arguments.env)
    [explanation] = explain([request], environment, arguments.path)
    print(explanation.json_text() if arguments.json else explanation.text())
    return 0 if explanation.allowed else 1


def run_verify(arguments: argparse.Namespace) -> int:
    settings = load_settings(**({} if arguments.env is None else {"app_env": arguments.env}))
    policy = settings.cors_policy
    others = load_other_policies(settings.app_env)
    report = verify(arguments.base_url, policy, others, arguments.path, arguments.timeout)
    print(report.json_text() if arguments.json else report.text())
    return 0 if report.passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        status: int = arguments.run(arguments)
    except (ConfigurationError, VerifyUsageError) as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status
