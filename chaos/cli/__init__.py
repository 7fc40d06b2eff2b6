"""The `chaosbed` command line: every subcommand is a module here.

    main.py             the parser, the entry point `main`, and COMMANDS (the list)
    command.py          Command, Context, RuntimeChoice: what a subcommand is and gets
    runtime_options.py  --runtime and --state-dir, and the factory of real runtimes
    status_table.py     the table `up` and `status` print
    up.py, down.py, status.py, demo.py    one subcommand each

Add a subcommand: a module here with `COMMAND = Command(...)`, listed in
`main.COMMANDS`. Exit statuses are chaos.exitcodes.ExitCode.
"""

from .command import Command, Context, RuntimeChoice, RuntimeFactory
from .main import COMMANDS, build_parser, main

__all__ = [
    "COMMANDS",
    "Command",
    "Context",
    "RuntimeChoice",
    "RuntimeFactory",
    "build_parser",
    "main",
]
