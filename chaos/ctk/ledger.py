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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Entry", "Ledger"]

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
    expires_at: float = 0.0  # wall clock: the fault has ended by itself by then


class Ledger:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE
        self._lock = state_dir / (FILE + ".lock")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[Entry]]:
        """The entries, written back when the block ends without an error."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = self._read()
            yield entries
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps([asdict(e) for e in entries], indent=1))
            os.replace(temporary, self.path)

    def _read(self) -> list[Entry]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        return [Entry(**item) for item in raw]

    def entries(self, tag: str | None = None) -> list[Entry]:
        """What is recorded (under `tag`; None: every tag)."""
        with self._locked() as entries:
            return [e for e in entries if tag is None or e.tag == tag]

    def add(self, entry: Entry) -> None:
        with self._locked() as entries:
            entries.append(entry)

    def update(self, entry: Entry) -> None:
        with self._locked() as entries:
            for index, known in enumerate(entries):
                if known.id == entry.id:
                    entries[index] = entry

    def clear(self) -> int:
        """Forget every entry (`chaosbed cleanup` removed what they name); how many."""
        with self._locked() as entries:
            count = len(entries)
            entries.clear()
        return count

    def remove(self, entry_id: str) -> None:
        with self._locked() as entries:
            entries[:] = [e for e in entries if e.id != entry_id]
