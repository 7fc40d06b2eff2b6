"""Control against experiment, judged by statistics (ChAP, Kayenta).

- stats.py   one metric: Mann-Whitney U, the Hodges-Lehmann shift, the ratio of
             means, the classification (pass, high, low, no data), and the alpha
             a repeated look may spend
- score.py   the score over the metrics and its verdict (pass, marginal, fail)
"""

from .score import DEFAULT_MARGINAL, DEFAULT_PASS, Judged, Score, score
from .stats import DEFAULT_CONFIDENCE, MetricComparison, classify, spent_alpha

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_MARGINAL",
    "DEFAULT_PASS",
    "Judged",
    "MetricComparison",
    "Score",
    "classify",
    "score",
    "spent_alpha",
]
