"""`chaosbed monkey`: continuous chaos with guardrails (work in progress).

- schedule.py  when the monkey may act (a time window in a time zone), when it
               acts next (exponential waits around a mean), on whom (services
               that opt in and are healthy) and with what (a weighted menu),
               every choice from one seeded generator and said in words
"""

from .schedule import Action, Choice, Menu, MenuItem, Schedule, Window, parse_window

__all__ = ["Action", "Choice", "Menu", "MenuItem", "Schedule", "Window", "parse_window"]
