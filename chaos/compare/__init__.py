"""Control against experiment, judged by statistics (ChAP, Kayenta).

- stats.py   one metric: Mann-Whitney U, the Hodges-Lehmann shift, the ratio of
             means, the classification (pass, high, low, no data), and the alpha
             of a repeated look
- score.py   the score over the metrics and its verdict (pass, marginal, fail)
"""

from .score import DEFAULT_MARGINAL, DEFAULT_PASS, Judged, Score, score
from .stats import DEFAULT_CONFIDENCE, MetricComparison, classify, look_level

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_MARGINAL",
    "DEFAULT_PASS",
    "Judged",
    "MetricComparison",
    "Score",
    "classify",
    "score",
    "look_level",
]
