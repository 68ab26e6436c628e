"""Reading a Dockerfile as its stages and their instructions."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    """One build stage: its base image and its instructions in order."""

    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def last(self, keyword: str) -> str:
        return [arguments for k, arguments in self.instructions if k == keyword][-1]

    def environment(self) -> dict[str, str]:
        pairs = [p for k, arguments in self.instructions if k == "ENV" for p in shlex.split(arguments)]
        return dict(p.split("=", 1) for p in pairs)


def read_stages(dockerfile: Path) -> list[Stage]:
    """Split a Dockerfile into stages of (instruction, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text(encoding="utf-8"))
    stages: list[Stage] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        keyword, _, arguments = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            base, _, name = arguments.partition(" AS ")
            stages.append(Stage(base.strip(), name.strip()))
        else:
            stages[-1].instructions.append((keyword.upper(), arguments.strip()))
    return stages
