"""chaosbed as a Chaos Toolkit extension (docs/ctk.md).

`chaos discover chaosbed` finds `chaos.discover`, which lists the activities
of `chaos.ctk.actions` and `chaos.ctk.probes`: plain functions a CTK
experiment calls with `provider: {type: python, module, func, arguments}`.
They find the stack the way every chaosbed command does (CTK configuration
`chaosbed_state_dir`, `chaosbed_port_base`, `chaosbed_runtime`, else the
CHAOSBED_* environment, else the default stack), inject through chaosbed's
own fault drivers (the same validation, verification and TTLs as `chaosbed
run`), and keep what they injected in the stack's state directory, so that
`remove_faults` rolls it back from any later activity or process.
"""

__all__: list[str] = []
