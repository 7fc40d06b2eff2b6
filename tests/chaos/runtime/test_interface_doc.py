"""docs/runtimes.md's table of the Runtime interface names every member the
interface has, and no other."""

from __future__ import annotations

import re

from chaos.project import PROJECT_ROOT
from chaos.runtime.interface import Runtime

RUNTIMES = PROJECT_ROOT / "docs" / "runtimes.md"


def documented_members() -> set[str]:
    text = RUNTIMES.read_text()
    section = text.split("## The Runtime interface", 1)[1].split("\n#", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {m for row in rows for m in re.findall(r"`(?:await )?([a-z_]+)", row)}


def test_the_runtimes_page_lists_every_member_of_the_runtime_interface() -> None:
    members = {
        name for base in Runtime.__mro__ for name in vars(base) if not name.startswith("_")
    } - set(vars(object))
    assert documented_members() == members
