"""`chaosbed monkey`: continuous chaos with guardrails (docs/monkey.md).

- schedule.py    when the monkey may act (a time window in a time zone), when it
                 acts next (exponential waits around a mean), on whom (services
                 that opt in and are healthy) and with what (a weighted menu),
                 every choice from one seeded generator and said in words
- run.py         the loop: choose, inject, verify, hold, roll back; halts, pauses
- guardrails.py  when it must not act: the error budget burns, an alert pages
- journal.py     its JSON-lines journal, and the listeners fed from it
- notify.py      metrics and the webhook
- control.py     its endpoint (status, metrics, pause, resume, stop)
- expiry.py      a pause that outlives its monkey ends anyway
"""

from .schedule import Action, Choice, Menu, MenuItem, Schedule, Window, parse_window

__all__ = ["Action", "Choice", "Menu", "MenuItem", "Schedule", "Window", "parse_window"]
