"""`chaosbed mutate` refuses what it cannot do before anything starts."""

from __future__ import annotations

import io
from pathlib import Path

from chaos.cli import main
from chaos.exitcodes import ExitCode


def mutate(*argv: str) -> tuple[int, str]:
    status, _, err = mutate_out(*argv)
    return status, err


def mutate_out(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["mutate", *argv], out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_an_unknown_mutant_exits_2_naming_the_known_ones(tmp_path: Path) -> None:
    status, err = mutate("--only", "no-retrys", "--state-dir", str(tmp_path))

    assert status == ExitCode.INVALID_INPUT
    assert "--only no-retrys: no such mutant; known: no-retries, retry-non-idempotent" in err


def test_the_docker_runtime_is_refused(tmp_path: Path) -> None:
    status, err = mutate("--runtime", "docker", "--state-dir", str(tmp_path))

    assert status == ExitCode.INVALID_INPUT
    assert "process runtime only" in err


def test_a_mutant_no_experiment_covers_is_a_hole_that_fails_the_run_without_a_stack(
    tmp_path: Path,
) -> None:
    out_dir = tmp_path / "out"
    status, out, _ = mutate_out("--only", "retry-non-idempotent", "--state-dir",
                                str(tmp_path / "state"), "--out", str(out_dir))  # fmt: skip

    assert status == ExitCode.DEVIATED
    assert "| retry-non-idempotent | idempotent-retries | uncovered |" in out
    assert (out_dir / "matrix.json").exists() and (out_dir / "matrix.xml").exists()
    assert not (tmp_path / "state").exists()
