"""What a runtime knows stays behind the Runtime interface: no caller imports the
docker runtime except the factory that builds the runtime asked for (another
runtime may: the cluster runtime drives its nodes' Docker engines with the
docker runtime's code), and SLO reading (chaos.slo) launches no Prometheus."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from chaos.project import PROJECT_ROOT

DOCKER = "chaos.runtime.docker"
#: builds the runtime `--runtime` names: the one place allowed to know the class
FACTORY = "chaos.cli.runtime_options"
#: the runtime that reaches Docker engines too (its nodes'), itself built by the factory only
CLUSTER = "chaos.runtime.cluster"
PACKAGES = ("chaos", "services", "benchmarks")


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[str]:
    """Every module `path` imports (relative imports resolved), `from X import y` as X.y."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def sources() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((PROJECT_ROOT / package).rglob("*.py"))


def importers_of(target: str) -> set[str]:
    return {
        module_name(path)
        for path in sources()
        for name in imported(path)
        if name == target or name.startswith(f"{target}.")
    }


def test_only_the_runtime_factory_imports_the_docker_runtime() -> None:
    outside = {m for m in importers_of(DOCKER) if m != DOCKER and not m.startswith(f"{DOCKER}.")}
    assert {m for m in outside if not m.startswith(f"{CLUSTER}.")} == {FACTORY}
    cluster = {m for m in importers_of(CLUSTER) if m != CLUSTER and not m.startswith(f"{CLUSTER}.")}
    assert cluster == {FACTORY}


def test_relative_imports_are_resolved_against_their_package() -> None:
    imports = set(imported(PROJECT_ROOT / "chaos" / "runtime" / "docker" / "runtime.py"))
    assert "chaos.runtime.docker.netns.Namespaces" in imports
    assert "chaos.runtime.base.RuntimeBase" in imports


def test_slo_reading_launches_no_prometheus() -> None:
    launchers = {"subprocess", "chaos.runtime.prometheus", "chaos.runtime.process"}
    slo = [p for p in sources() if module_name(p).split(".")[:2] == ["chaos", "slo"]]
    assert slo
    for path in slo:
        assert not launchers & set(imported(path)), module_name(path)
