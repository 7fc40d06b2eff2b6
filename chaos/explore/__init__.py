"""`chaosbed explore`: every call site of every member journey, every fault, one request each.

- journeys.py   the journeys explored, one request each, and what the member got
- contract.py   the contract each execution is checked against (contract.yaml)
- explorer.py   the executions: learn the call sites, then one per (site, fault)
- output.py     the matrix and JUnit
- session.py    one exploration against a stack: its verdict and journal
- exploration.py an exploration as a file, played by verify, gameday and mutate
"""

from .contract import DEFAULT_CONTRACT, Contract, ContractError, load_contract
from .explorer import Execution, Site, explore
from .journeys import EXPLORED

__all__ = [
    "DEFAULT_CONTRACT",
    "EXPLORED",
    "Contract",
    "ContractError",
    "Execution",
    "Site",
    "explore",
    "load_contract",
]
