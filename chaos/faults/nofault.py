"""The step of an A/A comparison: nothing is injected, nothing is rolled back.

Only an experiment that compares cohorts may have such a step (the loader
refuses it elsewhere); the comparison, not this driver, is the evidence.
"""

from __future__ import annotations

from chaos.experiment.model import NoFault, Step
from chaos.slo import SliReader

from .base import Injection

__all__ = ["NoFaultDriver"]


class NoFaultDriver:
    layer = "none"

    def accepts(self, step: Step) -> bool:
        return isinstance(step.fault, NoFault)

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None:
        injection.handle["injected"] = "nothing"

    async def verify(self, step: Step, injection: Injection) -> None:
        injection.verification = "nothing injected: an A/A step"

    async def confirm_effect(
        self, step: Step, injection: Injection, reader: SliReader, since: float
    ) -> None:
        injection.effect = "none sought: an A/A step compares the cohorts as they are"

    async def rollback(self, step: Step, injection: Injection) -> None:
        injection.rollback = "nothing to remove"
