"""The facts the docs state that the code also knows: each stated once, and true.

Each fact has one home in docs/ (README.md and the other pages link to it):
the repository map (docs/architecture.md), the exit statuses and the CLI's
commands and options (docs/cli.md), the metrics (docs/metrics.md), the
ports (docs/services.md) and the fault-control API (docs/control-api.md).
These tests read the home and compare it with the code, so a doc that
drifts fails here.
"""

from __future__ import annotations

import argparse
import ast
import re
import signal
from pathlib import Path

import pytest

from chaos.cli.main import build_parser
from chaos.exitcodes import ExitCode, interrupted_by
from chaos.runtime.layout import StackPorts
from services.topology import Metric

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
DOC_FILES = sorted([ROOT / "README.md", *DOCS.glob("*.md")])


def section(path: Path, heading: str) -> str:
    """The text under `heading` (a whole line), up to the next heading of its level or above."""
    lines = path.read_text().splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    try:
        start = lines.index(heading) + 1
    except ValueError:
        raise AssertionError(f"{path.name}: no heading {heading!r}") from None
    end = len(lines)
    for i in range(start, len(lines)):
        match = re.match(r"(#+) ", lines[i])
        if match and len(match.group(1)) <= level:
            end = i
            break
    return "\n".join(lines[start:end])


def table_rows(text: str) -> list[list[str]]:
    """The body rows of every Markdown table in `text` (header and separator left out), each as
    its stripped cells (an escaped `\\|` stays in its cell)."""
    rows: list[list[str]] = []
    table: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        for body in table[2:]:
            rows.append([c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)[1:-1]])
        table = []
    return rows


# -- the repository map ---------------------------------------------------------------


def repository_map() -> tuple[set[str], set[str]]:
    """(directories, files) the map in docs/architecture.md names, as paths from the root."""
    text = section(DOCS / "architecture.md", "## The repository")
    block = re.search(r"```\n(.*?)```", text, re.S)
    assert block, "architecture.md: the repository map is not a code block"
    dirs: set[str] = set()
    files: set[str] = set()
    stack: list[str] = []
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0, f"architecture.md: odd indent in the map: {line!r}"
        depth = indent // 2
        name = line.split()[0]
        del stack[depth:]
        assert len(stack) == depth, f"architecture.md: {line!r} is indented under nothing"
        path = "/".join([*stack, name.rstrip("/")])
        if name.endswith("/"):
            dirs.add(path)
            stack.append(name.rstrip("/"))
        else:
            files.add(path)
    return dirs, files


def packages() -> set[str]:
    return {
        init.parent.relative_to(ROOT).as_posix()
        for top in ("chaos", "services")
        for init in (ROOT / top).rglob("__init__.py")
    }


def test_the_repository_map_lists_every_package_of_chaos_and_services() -> None:
    dirs, _ = repository_map()
    missing = packages() - dirs
    assert not missing, f"docs/architecture.md's repository map misses {sorted(missing)}"


def test_the_repository_map_names_only_what_exists() -> None:
    dirs, files = repository_map()
    gone = sorted(d for d in dirs if not (ROOT / d).is_dir())
    gone += sorted(f for f in files if not (ROOT / f).is_file())
    assert not gone, f"docs/architecture.md's repository map names what does not exist: {gone}"


# -- the exit statuses ------------------------------------------------------------------


def test_the_exit_status_table_lists_exactly_the_codes_of_chaos_exitcodes() -> None:
    rows = table_rows(section(DOCS / "cli.md", "## Exit statuses"))
    documented: dict[int, str] = {}
    for row in rows:
        for code in re.findall(r"\d+", row[0]):
            documented[int(code)] = row[1]
    expected = {int(code) for code in ExitCode} | {interrupted_by(signal.SIGTERM)}
    assert set(documented) == expected
    for code in ExitCode:
        assert code.name in documented[code.value], (
            f"docs/cli.md: status {code.value} should be named {code.name}"
        )


def test_no_other_page_restates_the_exit_status_table() -> None:
    for path in DOC_FILES:
        if path.name == "cli.md":
            continue
        for row in table_rows(path.read_text()):
            assert not re.fullmatch(r"(0|1|2|3|4|5|130, 143)", row[0]), (
                f"{path.name} restates the exit statuses: link to docs/cli.md#exit-statuses"
            )


# -- the CLI's commands and options -----------------------------------------------------


def parser_commands() -> dict[str, set[str]]:
    """Every command (`history check` for a nested one) -> its options and positionals."""
    found: dict[str, set[str]] = {}

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*words, name])
            elif words and not isinstance(action, argparse._HelpAction):
                names = action.option_strings or [action.dest.upper()]
                found.setdefault(" ".join(words), set()).update(names)
        if words and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            found.setdefault(" ".join(words), set())

    walk(build_parser(), [])
    return found


def documented_commands() -> dict[str, set[str]]:
    text = (DOCS / "cli.md").read_text()
    found: dict[str, set[str]] = {}
    for heading in re.findall(r"^### `chaosbed ([a-z ]+)`$", text, re.M):
        names: set[str] = set()
        for row in table_rows(section(DOCS / "cli.md", f"### `chaosbed {heading}`")):
            for span in re.findall(r"`([^`]+)`", row[0]):
                if re.fullmatch(r"[A-Z][A-Z_]*", span):  # a positional argument
                    names.add(span)
                names.update(re.findall(r"(?<![\w-])--?[a-z][a-z-]*", span))
        found[heading] = names
    return found


def test_the_cli_doc_has_a_section_for_every_command_and_no_other() -> None:
    assert set(documented_commands()) == set(parser_commands())


@pytest.mark.parametrize("command", sorted(parser_commands()))
def test_the_cli_doc_lists_every_option_of_each_command_and_no_other(command: str) -> None:
    assert documented_commands().get(command) == parser_commands()[command]


# -- the metrics ------------------------------------------------------------------------


def exported_metrics() -> set[str]:
    """Every metric the services and the load generator export: `Metric` in
    services/topology.py (tests/services/test_topology.py checks it against
    their registries)."""
    return {str(metric) for metric in Metric}


def test_the_metric_table_lists_exactly_the_metrics_the_code_exports() -> None:
    documented = {
        name
        for row in table_rows((DOCS / "metrics.md").read_text())
        for name in re.findall(r"`(chaosbed_\w+)`", row[0])
    }
    assert documented == exported_metrics()


# -- the ports --------------------------------------------------------------------------


def code_ports() -> dict[str, tuple[int, int]]:
    """Each part of a stack -> (its usual port, its offset from a port base)."""
    usual, base = StackPorts(), StackPorts.from_base(20000)
    parts = {name: (port, base.services[name] - 20000) for name, port in usual.services.items()}
    parts["prometheus"] = (usual.prometheus, base.prometheus - 20000)
    parts["load"] = (usual.load, base.load - 20000)
    parts["grafana"] = (usual.grafana, base.grafana - 20000)
    parts["monkey"] = (usual.monkey, base.monkey - 20000)
    return parts


def documented_ports() -> dict[str, tuple[int, int]]:
    found = {}
    for row in table_rows(section(DOCS / "services.md", "## Ports")):
        name = re.match(r"[a-z-]*", re.sub(r"[`*]", "", row[0]).lower())
        assert name is not None  # `[a-z-]*` matches any text, if only with ""
        part = name.group()
        offset = re.fullmatch(r"N(?:\+(\d+))?", row[2])
        assert offset, f"docs/services.md: {row[2]!r} is not N or N+k"
        found[part] = (int(row[1]), int(offset.group(1) or 0))
    return found


def test_the_port_table_states_the_codes_usual_ports_and_port_base_offsets() -> None:
    assert documented_ports() == code_ports()


def test_no_page_states_a_port_the_stack_does_not_use() -> None:
    usual = {port for port, _ in code_ports().values()}
    for path in DOC_FILES:
        text = path.read_text()
        for port in re.findall(r"127\.0\.0\.1:(\d+)", text):
            assert int(port) in usual, f"{path.name}: 127.0.0.1:{port} is no port of the stack"
        for low, high in re.findall(r"\b(80\d\d)\s*(?:-|–|\.\.)\s*(80\d\d)\b", text):
            services = sorted(p for p, _ in code_ports().values() if 8000 <= p < 8100)
            assert (int(low), int(high)) == (services[0], services[-1]), (
                f"{path.name}: the services' ports are {services[0]}-{services[-1]}, "
                f"not {low}-{high}"
            )


def test_no_page_cites_the_design_notes() -> None:
    for path in DOC_FILES:
        assert "DESIGN.md" not in path.read_text(), f"{path.name} cites DESIGN.md"


# -- the tour of one run ----------------------------------------------------------------


def defined_names() -> set[str]:
    names: set[str] = set()
    for path in [*(ROOT / "chaos").rglob("*.py"), *(ROOT / "services").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
    return names


def test_the_tour_of_a_run_names_only_functions_and_classes_that_exist() -> None:
    tour = section(DOCS / "architecture.md", "## One `chaosbed run` through the code")
    called = {name.split(".")[-1] for name in re.findall(r"`([A-Za-z_][\w.]*)\(\)`", tour)}
    classes = set(re.findall(r"`([A-Z][a-z]\w*)`", tour))
    assert len(called) > 20, "the tour should name the functions a run passes"
    missing = sorted((called | classes) - defined_names())
    assert not missing, f"architecture.md's tour names what the code does not define: {missing}"


def test_every_path_the_tour_names_exists() -> None:
    tour = section(DOCS / "architecture.md", "## One `chaosbed run` through the code")
    paths = set(re.findall(r"\b((?:chaos|services)/[\w/*.-]*\w)", tour))
    gone = sorted(p for p in paths if "*" not in p and not (ROOT / p).exists())
    assert not gone, f"docs/architecture.md's tour names paths that do not exist: {gone}"


# -- the experiment library -------------------------------------------------------------


def test_the_library_table_lists_every_shipped_experiment_and_its_prediction() -> None:
    shipped = {}
    for path in (ROOT / "chaos" / "experiments").glob("*.yaml"):
        stated = re.search(r"^predicts:\s*(\w+)", path.read_text(), re.M)
        shipped[path.stem] = stated.group(1) if stated else "held"
    rows = table_rows(section(DOCS / "experiments.md", "## The shipped library"))
    assert {row[0]: row[-1] for row in rows} == shipped


# -- the fault-control API ---------------------------------------------------------------


def test_the_control_api_page_lists_every_route_and_every_field_of_a_rule() -> None:
    from aiohttp import web

    from services.common import fault_rules
    from services.common.control_api import setup_control_routes

    page = DOCS / "control-api.md"
    app = web.Application()
    setup_control_routes(app, ())
    served = {
        re.sub(r"\{\w+\}", "{}", f"{route.method} {route.resource.canonical}")
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    documented = {
        re.sub(r"\{\w+\}", "{}", re.sub(r"\[\?tag=T\]", "", row[0].split("` ")[0].strip("`")))
        for row in table_rows(section(page, "## Routes"))
    }
    assert documented == served
    rule = table_rows(section(page, "## A rule"))
    fields = {row[0].strip("`"): row for row in rule if len(row) == 4}  # field, type, default, …
    assert {row[0].strip("`") for row in rule if len(row) == 3} == set(fault_rules.KINDS)
    assert set(fields) == fault_rules._FIELDS
    assert fields["kind"][1] == ", ".join(f"`{k}`" for k in fault_rules.KINDS)
    assert fields["method"][1].startswith(", ".join(f"`{m}`" for m in fault_rules.METHODS))
    assert fields["cohort"][1] == ", ".join(f"`{c}`" for c in fault_rules.COHORT_SCOPES)
    services_readme = (ROOT / "services" / "common" / "README.md").read_text()
    assert "/_chaos/faults" not in services_readme, "the API is documented once, in docs/"
