"""`chaosbed mutate`: the proof that the experiment library catches regressions.

For each mutant (services/common/mutants.py) a stack runs with it switched
on, and the experiments whose `covers:` names its mechanism are played; a
cell of the matrix is *caught* when the experiment's verdict differs from
the one it predicts (not when the stack was not steady before any fault:
nothing was injected). The unmutated stack plays every selected experiment
first and must hold every prediction: another verdict there is a false alarm,
and a run not steady or with no verdict judged nothing, which fails it too.
"""

from .matrix import Cell, Matrix, MutantRow, cell_of, matrix_json, matrix_junit, matrix_table

__all__ = [
    "Cell",
    "Matrix",
    "MutantRow",
    "cell_of",
    "matrix_json",
    "matrix_junit",
    "matrix_table",
]
