"""What CTK activities injected and have not rolled back, kept in the stack's state
directory (`ctk-faults.json`), so that `remove_faults` (a later activity, a control,
another process) rolls back exactly that. Activities may run in threads (CTK's
background activities) and processes at once: every change holds a file lock."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode

__all__ = ["Entry", "Ledger", "LedgerError"]

FILE = "ctk-faults.json"


@dataclass
class Entry:
    """One injected fault: the step as written (chaosbed's method-step format), the
    tag it was injected under, its driver's handle, and when its TTL ends it."""

    id: str
    tag: str
    step: dict[str, Any]
    layer: str
    description: str
    handle: dict[str, Any] = field(default_factory=dict)
    injected_at: float = 0.0  # wall clock
    expires_at: float = 0.0  # wall clock: an application or network fault has ended by then
    state: str = "injecting"  # then "injected", once verified


class LedgerError(ChaosbedError):
    """The record of what CTK activities injected cannot be read."""

    exit_code = ExitCode.INFRASTRUCTURE_FAILED


class Ledger:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE
        self._lock = state_dir / (FILE + ".lock")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[Entry]]:
        """The entries, written back when the block ends without an error."""
        with open(self._lock_path(), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = self._read()
            yield entries
            temporary = self.path.with_suffix(".tmp")
            with open(temporary, "w") as out:
                out.write(json.dumps([asdict(e) for e in entries], indent=1))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)

    def _lock_path(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self._lock

    def _read(self) -> list[Entry]:
        try:
            raw = json.loads(self.path.read_text())
            known = {f.name for f in fields(Entry)}
            return [Entry(**{k: v for k, v in item.items() if k in known}) for item in raw]
        except FileNotFoundError:
            return []
        except (ValueError, TypeError, AttributeError) as error:
            raise LedgerError(f"{self.path}: unreadable ({error}); `chaosbed cleanup` "
                              "removes what the faults it named left") from None  # fmt: skip

    def entries(self, tag: str | None = None) -> list[Entry]:
        """What is recorded (under `tag`; None: every tag)."""
        with open(self._lock_path(), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            return [e for e in self._read() if tag is None or e.tag == tag]

    def add(self, entry: Entry) -> None:
        with self._locked() as entries:
            entries.append(entry)

    def update(self, entry: Entry) -> None:
        """Write `entry` over its record; one removed meanwhile (a `remove` beside an
        inject in flight) is written again: the fault it names may be live."""
        with self._locked() as entries:
            for index, known in enumerate(entries):
                if known.id == entry.id:
                    entries[index] = entry
                    return
            entries.append(entry)

    def clear(self) -> int:
        """Forget every entry (`chaosbed cleanup` removed what they name): how many
        there were, -1 for a record that could not be read."""
        with open(self._lock_path(), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                count = len(self._read())
            except LedgerError:
                count = -1
            self.path.unlink(missing_ok=True)
        return count

    def remove(self, entry_id: str) -> None:
        with self._locked() as entries:
            entries[:] = [e for e in entries if e.id != entry_id]
