"""The import picture: no service imports another service's package.

What several services agree on lives in `services.vocabulary`, the resilience
kit in `services.common`; a service may import those and itself, nothing
else under `services`. Checked on the source with `ast`, so an import inside
a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import services

SERVICES_DIR = Path(services.__file__).parent
SHARED = frozenset({"common", "vocabulary"})
# shared modules (not packages) every service may import: the topology
SHARED_MODULES = frozenset({"topology"})


def packages() -> list[str]:
    return sorted(p.name for p in SERVICES_DIR.iterdir() if (p / "__init__.py").is_file())


def module_name(path: Path) -> str:
    parts = path.relative_to(SERVICES_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_packages(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """The packages under `services` that `module` imports (`services.<name>` -> name)."""
    found: set[str] = set()
    here = module.split(".") if is_package else module.split(".")[:-1]

    def add(dotted: list[str], names: list[str]) -> None:
        if dotted[:1] != ["services"]:
            return
        if len(dotted) > 1:
            found.add(dotted[1])
        else:  # `from services import catalog`
            found.update(names)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name.split("."), [])
        elif isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
            if node.level == 0:
                add((node.module or "").split("."), names)
            else:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                add(base + (node.module.split(".") if node.module else []), names)
    return found


def modules_of(package: str) -> list[Path]:
    return sorted((SERVICES_DIR / package).rglob("*.py"))


def test_the_services_and_the_shared_packages_are_all_found() -> None:
    assert {"catalog", "recommendations", "playback", "profiles"} | SHARED <= set(packages())


@pytest.mark.parametrize("package", packages())
def test_a_package_imports_only_itself_the_kit_and_the_vocabulary(package: str) -> None:
    allowed = SHARED | SHARED_MODULES | {package}
    crossings = {
        f"{path.relative_to(SERVICES_DIR.parent)} imports services.{target}"
        for path in modules_of(package)
        for target in imported_packages(
            path.read_text(), module_name(path), is_package=path.name == "__init__.py"
        )
        if target not in allowed
    }
    assert not crossings, sorted(crossings)


@pytest.mark.parametrize("package", sorted(SHARED))
def test_the_shared_packages_import_no_service(package: str) -> None:
    for path in modules_of(package):
        targets = imported_packages(
            path.read_text(), module_name(path), is_package=path.name == "__init__.py"
        )
        assert targets <= SHARED | SHARED_MODULES, (path, targets)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from services.catalog.model import Title", {"catalog"}),
        ("import services.profiles.model", {"profiles"}),
        ("from services import catalog, profiles", {"catalog", "profiles"}),
        ("from ..catalog import model", {"catalog"}),
        ("from ..catalog.model import Title", {"catalog"}),
        ("from .cache import TTLCache", {"playback"}),
        ("from . import cache", {"playback"}),
        ("def f():\n    from services.common import json_error", {"common"}),
        ("import json\nfrom aiohttp import web", set()),
    ],
)
def test_the_checker_sees_every_form_of_import(source: str, expected: set[str]) -> None:
    assert imported_packages(source, "services.playback.handlers") == expected


def test_the_checker_resolves_relative_imports_from_a_package_init() -> None:
    source = "from .app import create_app\nfrom ..vocabulary import Title"
    found = imported_packages(source, "services.playback", is_package=True)
    assert found == {"playback", "vocabulary"}
