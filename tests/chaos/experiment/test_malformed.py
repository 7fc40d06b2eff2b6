"""A corpus of malformed experiments: each is refused, naming the wrong field at its line.

Each file in malformed/ has one thing wrong, said in its first-line comment;
malformed/expected.yaml gives the field its error must name and the line, and for
the refusals of what cannot be judged, part of the message: why.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chaos.experiment import ExperimentError, load_experiment

CORPUS = Path(__file__).parent / "malformed"
EXPECTED: dict[str, dict[str, object]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
FILES = sorted(path.name for path in CORPUS.glob("*.yaml") if path.name != "expected.yaml")


def test_the_corpus_has_at_least_thirty_files_and_each_has_an_expectation() -> None:
    assert len(FILES) >= 30
    assert set(FILES) == set(EXPECTED)


@pytest.mark.parametrize("name", FILES)
def test_malformed_file_is_refused_naming_its_field_and_line(name: str) -> None:
    path = CORPUS / name
    assert path.read_text().startswith("# wrong: "), "say what is wrong in the first line"
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    expected = EXPECTED[name]
    found = [(error.line, error.field) for error in caught.value.errors]
    assert (expected["line"], expected["field"]) in found, str(caught.value)
    # one thing is wrong, so every error reported is about it
    assert {line for line, _ in found} == {expected["line"]}, str(caught.value)
    assert f"{path}:{expected['line']}: {expected['field']}: " in str(caught.value)
    if "says" in expected:
        assert str(expected["says"]) in str(caught.value)
