"""An exploration as a file: `chaosbed verify`, `gameday` and `mutate` play it beside
experiments (docs/explore.md, "In a suite").

    title: Every call site of every journey, every fault
    hypothesis: every member journey keeps its contract whatever one call does
    predicts: held
    covers: [retries, fallback-cached-popular]
    explore:
      journeys: [homepage, play]     # default: every journey
      depth: 1                       # 2: also pairs of faults
      contract: my-contract.yaml     # default: the shipped contract; relative to this file
      concurrency: 4

A file is an exploration when its top level has `explore:`. The contract is
read when the file is, so an invalid one stops the suite before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import yaml

from chaos.experiment.document import Node, parse_document
from chaos.experiment.errors import DOCUMENT, ExperimentError
from chaos.experiment.fields import Fields, Problems
from chaos.experiment.loader import RUNTIMES, load_experiment_text, read_file, read_words
from chaos.experiment.model import Experiment
from services.common.mutants import MECHANISMS

from .contract import DEFAULT_CONTRACT, ContractError, load_contract
from .journeys import EXPLORED

__all__ = [
    "Exploration",
    "Playable",
    "is_exploration",
    "load_exploration",
    "load_exploration_text",
    "load_playable",
    "load_playable_text",
]

TOP_KEYS = ("title", "hypothesis", "predicts", "runtimes", "tags", "covers", "explore")
EXPLORE_KEYS = ("journeys", "depth", "contract", "concurrency")
MAX_CONCURRENCY = 32


@dataclass(frozen=True)
class Exploration:
    title: str
    hypothesis: str
    journeys: tuple[str, ...]
    depth: int
    contract: Path
    concurrency: int = 4
    predicts: Literal["held", "deviated"] = "held"
    runtimes: tuple[str, ...] = ()
    """Where it may run (empty: both runtimes)."""
    source: str = ""
    tags: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()


def is_exploration(document: object) -> bool:
    """Whether a parsed YAML document is an exploration (its top level has `explore:`)."""
    return isinstance(document, dict) and "explore" in document


#: What a suite plays: an experiment, or an exploration.
Playable = Experiment | Exploration


def load_playable(path: str | Path) -> Playable:
    """The experiment or the exploration in the file at `path` (ExperimentError when invalid)."""
    return load_playable_text(read_file(path), str(path))


def load_playable_text(text: str, source: str = "<text>") -> Playable:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        document = None  # the experiment loader names the line
    if is_exploration(document):
        return load_exploration_text(text, source)
    return load_experiment_text(text, source)


def load_exploration(path: str | Path) -> Exploration:
    """Read and validate the exploration file at `path` (ExperimentError naming each field)."""
    return load_exploration_text(read_file(path), str(path))


def load_exploration_text(text: str, source: str = "<text>") -> Exploration:
    tree, errors = parse_document(text)
    problems = Problems(errors)
    found = None
    if tree is not None:
        values = tree.mapping
        if values is None:
            problems.add(tree.line, DOCUMENT, f"expected a mapping, got {tree.kind()}")
        else:
            found = _read(tree, values, problems, source)
    if problems.errors or found is None:
        if not problems.errors:
            problems.add(1, DOCUMENT, "could not be read as an exploration")
        raise ExperimentError(source, problems.errors)
    return found


def _read(
    tree: Node, values: dict[str, Node], problems: Problems, source: str
) -> Exploration | None:
    fields = Fields(tree, values, problems, TOP_KEYS)
    title_node = fields.require("title", "a one-line title")
    title = None if title_node is None else problems.text(title_node, "a title", 200)
    hypothesis_node = fields.require("hypothesis", "what you expect to stay true")
    hypothesis = None if hypothesis_node is None else problems.text(hypothesis_node, "a hypothesis")
    predicts_node = fields.get("predicts")
    predicts = (
        "held" if predicts_node is None else problems.choice(predicts_node, ("held", "deviated"))
    )
    runtimes = read_words(fields.get("runtimes"), problems, RUNTIMES)
    tags = read_words(fields.get("tags"), problems, None)
    covers = read_words(fields.get("covers"), problems, MECHANISMS)
    explore_node = fields.require("explore", "what to explore")
    journeys: tuple[str, ...] | None = EXPLORED
    depth: int | None = 1
    concurrency: int | None = 4
    contract: Path | None = DEFAULT_CONTRACT
    if explore_node is not None and explore_node.value is not None:
        settings = problems.mapping(explore_node, "the exploration's settings")
        if settings is not None:
            inner = Fields(explore_node, settings, problems, EXPLORE_KEYS)
            node = inner.get("journeys")
            if node is not None:
                journeys = read_words(node, problems, EXPLORED)
                if journeys == ():
                    problems.at(node, "names no journey (leave it out for every journey)")
                    journeys = None
            node = inner.get("depth")
            depth = 1 if node is None else problems.integer(node, 1, 2)
            node = inner.get("concurrency")
            concurrency = 4 if node is None else problems.integer(node, 1, MAX_CONCURRENCY)
            node = inner.get("contract")
            if node is not None:
                written = problems.text(node, "a contract file")
                contract = None
                if written is not None:
                    contract = (Path(source).parent / written).resolve()
                    try:
                        load_contract(contract)
                    except ContractError as error:
                        problems.at(node, str(error))
                        contract = None
    parts = (title, hypothesis, predicts, runtimes, tags, covers, journeys, depth, concurrency)
    if any(part is None for part in parts) or contract is None:
        return None
    assert title and hypothesis and predicts and journeys and depth and concurrency
    assert runtimes is not None and tags is not None and covers is not None
    return Exploration(
        title=title,
        hypothesis=hypothesis,
        journeys=journeys,
        depth=depth,
        contract=contract,
        concurrency=concurrency,
        predicts=cast(Literal["held", "deviated"], predicts),
        runtimes=runtimes,
        source=source,
        tags=tags,
        covers=covers,
    )
