"""The CLI's subcommands, one module each. Add a command: write a module with a
`COMMAND = Command(...)` and list it in `COMMANDS`."""

from . import demo, down, status, up
from .base import Command, Context, ExitCode, RuntimeFactory

__all__ = ["COMMANDS", "Command", "Context", "ExitCode", "RuntimeFactory"]

COMMANDS: tuple[Command, ...] = (up.COMMAND, down.COMMAND, status.COMMAND, demo.COMMAND)
