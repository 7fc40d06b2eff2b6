"""An experiment written back to YAML loads as the same experiment."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from chaos.experiment import dump_experiment, load_experiment, load_experiment_text

SKETCH = Path(__file__).parent / "valid" / "outage-falls-back.yaml"


def test_the_sketch_dumps_and_loads_back_equal() -> None:
    experiment = load_experiment(SKETCH)
    assert load_experiment_text(dump_experiment(experiment), str(SKETCH)) == experiment


def test_text_with_unicode_line_separators_comes_back_as_written() -> None:
    experiment = dataclasses.replace(
        load_experiment(SKETCH), hypothesis="a\x85b café \u2028c", title="d\u2029e"
    )
    assert load_experiment_text(dump_experiment(experiment), str(SKETCH)) == experiment
