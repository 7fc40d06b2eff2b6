"""Loading an experiment file: YAML into a validated `Experiment`, or one
`ExperimentError` that lists every problem found (file, line, field, what
was expected). Nothing is touched before this has succeeded.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal, cast

from services.common.mutants import MECHANISMS

from .document import Node, parse_document
from .errors import DOCUMENT, ExperimentError, FieldError
from .fields import NAME, Fields, Problems
from .judgeable import refuse_unjudgeable
from .model import Experiment, LoadSpec, MonkeyFault, MonkeyHalts
from .read_compare import check_comparison
from .read_expect import read_expectations
from .read_load import read_load
from .read_method import read_method
from .read_slos import read_aborts, read_steady_state

__all__ = [
    "RUNTIMES",
    "TOP_KEYS",
    "load_experiment",
    "load_experiment_text",
    "read_file",
    "read_words",
]

RUNTIMES = ("process", "docker", "cluster")
TOP_KEYS = (
    "title",
    "hypothesis",
    "load",
    "steady_state",
    "method",
    "abort_when",
    "expect",
    "predicts",
    "runtimes",
    "tags",
    "covers",
)
MAX_FILE_BYTES = 1_000_000


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate the experiment file at `path`."""
    return load_experiment_text(read_file(path), str(path))


def read_file(path: str | Path) -> str:
    """The text of a file to load (at most 1 MB of UTF-8), or an ExperimentError saying why not."""
    source = str(path)
    try:
        with Path(path).open("rb") as stream:  # at most one byte too many: /dev/zero ends
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ExperimentError(
            source, [FieldError(1, DOCUMENT, f"cannot read the file: {error.strerror or error}")]
        ) from error
    if len(data) > MAX_FILE_BYTES:
        raise ExperimentError(
            source, [FieldError(1, DOCUMENT, f"the file is larger than {MAX_FILE_BYTES} bytes")]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ExperimentError(source, [FieldError(line, DOCUMENT, "not UTF-8 text")]) from error
    return text


def load_experiment_text(text: str, source: str = "<text>") -> Experiment:
    """Validate the experiment in `text`; `source` names it in errors and in the result."""
    tree, errors = parse_document(text)
    problems = Problems(errors)
    experiment = None if tree is None else _read_experiment(tree, problems, source)
    if problems.errors or experiment is None:
        if not problems.errors:  # a reader returned nothing without saying why: a bug, but say so
            problems.add(1, DOCUMENT, "could not be read as an experiment")
        raise ExperimentError(source, problems.errors)
    return experiment


def _read_experiment(node: Node, problems: Problems, source: str) -> Experiment | None:
    values = node.mapping
    if values is None:
        problems.add(
            node.line,
            DOCUMENT,
            f"expected an experiment (a mapping with title, hypothesis, ...), got {node.kind()}",
        )
        return None
    fields = Fields(node, values, problems, TOP_KEYS)
    title_node = fields.require("title", "a one-line title")
    title = None if title_node is None else problems.text(title_node, "a title", 200)
    hypothesis_node = fields.require("hypothesis", "what you expect to stay true")
    hypothesis = None if hypothesis_node is None else problems.text(hypothesis_node, "a hypothesis")
    load_node = fields.get("load")
    load = None if load_node is None or load_node.value is None else read_load(load_node, problems)
    steady_node = fields.require("steady_state", "warmup and the SLOs that must hold")
    steady = None if steady_node is None else read_steady_state(steady_node, problems)
    method_node = fields.require("method", "the steps: the faults to inject")
    method = None if method_node is None else read_method(method_node, problems)
    slo_names = None if steady is None else [slo.name for slo in steady.slos]
    if slo_names is None and steady_node is not None and steady_node.mapping is not None:
        slo_names = _written_slo_names(steady_node)
    aborts_node = fields.get("abort_when")
    aborts = () if aborts_node is None else read_aborts(aborts_node, problems, slo_names)
    expect_node = fields.get("expect")
    expect = () if expect_node is None else read_expectations(expect_node, problems)
    predicts_node = fields.get("predicts")
    predicts = (
        "held" if predicts_node is None else problems.choice(predicts_node, ("held", "deviated"))
    )
    runtimes = read_words(fields.get("runtimes"), problems, RUNTIMES)
    tags = read_words(fields.get("tags"), problems, None)
    covers = read_words(fields.get("covers"), problems, MECHANISMS)  # what `mutate` proves
    parts = (title, hypothesis, steady, method, aborts, expect, predicts, runtimes, tags, covers)
    if any(part is None for part in parts) or (
        load_node is not None and load_node.value is not None and load is None
    ):
        return None
    assert title and hypothesis and steady and method is not None and aborts is not None
    assert expect is not None and runtimes is not None and tags is not None
    assert covers is not None
    if steady.compare is not None and load is not None and load.control_percent is None:
        load = _equal_cohorts(load, load_node, problems)  # a comparison's default
        if load is None:
            return None
    experiment = Experiment(
        title=title,
        hypothesis=hypothesis,
        load=load,
        steady_state=steady,
        method=method,
        abort_when=aborts,
        expect=expect,
        predicts=cast(Literal["held", "deviated"], predicts),
        runtimes=runtimes,
        source=source,
        tags=tags,
        covers=covers,
    )
    assert steady_node is not None and steady_node.mapping is not None
    refuse_unjudgeable(
        experiment,
        problems,
        slos=steady_node.mapping.get("slos"),
        method=method_node,
        aborts=aborts_node,
    )
    check_comparison(
        experiment,
        problems,
        compare=steady_node.mapping.get("compare"),
        load=load_node,
        method=method_node,
    )
    _check_monkey_halts(experiment, problems, expect_node)
    return experiment


def _check_monkey_halts(experiment: Experiment, problems: Problems, node: Node | None) -> None:
    """`monkey_halts` needs a guarded monkey step and names another step of the method."""
    for expectation in experiment.expect:
        if not isinstance(expectation, MonkeyHalts):
            continue
        assert node is not None
        names = [step.name for step in experiment.method]
        guarded = [s.name for s in experiment.method
                   if isinstance(s.fault, MonkeyFault) and s.fault.guard is not None]  # fmt: skip
        if not guarded:
            problems.at(node, "monkey_halts: the method has no monkey step with a guard "
                        "(guard: {max_burn: ..., budget_window: ...})")  # fmt: skip
        if expectation.after not in names or expectation.after in guarded:
            problems.at(node, f"monkey_halts: after names a step of the method other than the "
                        f"monkey's ({', '.join(n for n in names if n not in guarded)}), "
                        f"not {expectation.after!r}")  # fmt: skip


def _equal_cohorts(load: LoadSpec, node: Node | None, problems: Problems) -> LoadSpec | None:
    """A comparison's control cohort is as large as its experiment cohort by default."""
    if load.experiment_percent > 50:
        assert node is not None
        problems.at(
            node,
            f"a comparison's control cohort is as large as its experiment cohort unless "
            f"control_percent says otherwise, and experiment_percent {load.experiment_percent:g} "
            f"leaves no room for that: give experiment_percent (at most 50, e.g. 5) or "
            f"control_percent",
        )
        return None
    return replace(load, control_percent=load.experiment_percent)


def _written_slo_names(steady: Node) -> list[str] | None:
    """The SLO names as written, when some SLO is invalid: aborts are still checked against them."""
    assert steady.mapping is not None
    slos = steady.mapping.get("slos")
    if slos is None or slos.items is None:
        return None
    names = []
    for slo in slos.items:
        name = slo.mapping.get("name") if slo.mapping else None
        if name is None or not isinstance(name.value, str) or not NAME.fullmatch(name.value):
            return None  # an SLO without a valid name: no abort can be judged
        names.append(name.value)
    return names or None


def read_words(
    node: Node | None, problems: Problems, options: tuple[str, ...] | None
) -> tuple[str, ...] | None:
    """A list of distinct words (from `options` when given); a single word is a list of one."""
    if node is None or node.value is None:
        return ()
    items = [node] if isinstance(node.value, str) else problems.items(node, "names")
    if items is None:
        return None
    words = [
        problems.name(item) if options is None else problems.choice(item, options) for item in items
    ]
    if any(word is None for word in words):
        return None
    if len(set(words)) != len(words):
        problems.at(node, "lists a name twice")
        return None
    return tuple(word for word in words if word is not None)
