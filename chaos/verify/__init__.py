"""`chaosbed verify`: the resilience suite for CI: experiments and game days, JUnit XML."""

from .collect import Skipped, Suite, collect
from .junit import failure_message, junit_xml, write_junit

__all__ = [
    "Skipped",
    "Suite",
    "collect",
    "failure_message",
    "junit_xml",
    "write_junit",
]
