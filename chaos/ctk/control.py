"""A Chaos Toolkit control: chaosbed's run of an exported experiment, and the rollback
of chaosbed's faults whatever ends the run.

CTK skips an experiment's rollbacks when the run is interrupted (Ctrl-C, SIGTERM) or
fails, under its default rollback strategy. Declared in the experiment

    controls: [{name: chaosbed, provider: {type: python, module: chaos.ctk.control}}]

this control, after the run whatever its status, rolls back every fault the run's
chaosbed actions injected (every `tag` they name) and writes what it did into CTK's
journal, under `chaosbed`. Control hooks must not raise (CTK would skip the others,
or crash before writing its journal): a rollback that fails is said in the journal and
logged, and `chaosbed cleanup` removes what is left.

When the experiment carries a chaosbed experiment (`extensions: [{name: chaosbed,
experiment: ...}]`, as `chaosbed export --format ctk` writes it), the control also
runs it (chaos.ctk.session): before CTK's run, the preflight, the member load, the
warm-up and the steady state (not holding: the run is interrupted, nothing is
injected); during the method, every SLO judged about once a second and the abort
conditions armed (one firing rolls back and stops CTK's run, as CTK's safeguards
do); after it, the tail, the recovery and the expectations, whose verdict the
`chaos.ctk.probes.verdict` probe reads. Its journal, report and JUnit are written
(control arguments `journal`, `report`, `junit`; by default the journal and its
report in the stack's state directory, `runs/<run id>/`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from chaos.gameday.play import write_json
from chaos.runner.session import new_run_id

from . import actions, faults
from .journal import chaosbed_journal_of
from .session import Session, SessionFiles, current, experiment_of, write_outputs
from .stack import ActivityError, Stack, run, stack_of

__all__ = [
    "after_experiment_control",
    "after_method_control",
    "before_experiment_control",
    "before_method_control",
    "cleanup_control",
    "tags_of",
]

log = logging.getLogger("chaostoolkit")
ACTIONS = actions.__name__
#: The actions that inject under a tag: every one but the removal, and the step of a
#: chaosbed run (its runner rolls it back).
INJECTING = frozenset(actions.__all__) - {"remove_faults", "run_step"}


def _activities(experiment: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    for group in (hypothesis.get("probes"), experiment.get("method"), experiment.get("rollbacks")):
        for activity in group or []:
            if isinstance(activity, Mapping):
                yield activity


def tags_of(
    experiment: Mapping[str, Any],
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> list[str]:
    """Every tag the experiment's chaosbed actions inject under ("" for none given),
    with `${...}` replaced from the configuration and secrets, as CTK does for them."""
    found: dict[str, None] = {}
    for activity in _activities(experiment):
        provider = activity.get("provider") or {}
        if provider.get("module") == ACTIONS and provider.get("func") in INJECTING:
            tag = (provider.get("arguments") or {}).get("tag") or ""
            if isinstance(tag, str) and "${" in tag:
                tag = _substitute(tag, configuration, secrets)
            found[str(tag)] = None
    return list(found)


def _substitute(
    text: str, configuration: Mapping[str, Any] | None, secrets: Mapping[str, Any] | None
) -> Any:
    from chaoslib import substitute  # inside `chaos run`: chaoslib is there

    return substitute(text, dict(configuration or {}), dict(secrets or {}))


def _files(stack: Stack, run_id: str, arguments: Mapping[str, Any]) -> SessionFiles:
    journal = arguments.get("journal") or stack.state_dir / "runs" / run_id / "journal.json"
    report = arguments.get("report")
    junit = arguments.get("junit")
    return SessionFiles(
        Path(journal),
        Path(journal).with_suffix(".html")
        if report is None
        else (Path(report) if report else None),
        Path(junit) if junit else None,
    )


def _stop_ctk() -> None:
    """chaosbed's run stopped while CTK's method was playing: stop CTK's run too, as
    its safeguards do (SIGUSR1: interrupted, rollbacks per its strategy)."""
    from chaoslib.exit import exit_gracefully

    log.error("chaosbed: the run stopped before the method ended; interrupting the experiment")
    exit_gracefully()


def before_experiment_control(
    context: dict[str, Any],
    configuration: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    **arguments: Any,
) -> None:
    """Before the run: when the experiment carries a chaosbed experiment, start its run
    and wait until the method may begin. Interrupts CTK's run (nothing injected) when
    the chaosbed experiment is invalid, cannot run here, or its steady state does not
    hold."""
    from chaoslib.exceptions import InterruptExecution

    try:
        experiment = experiment_of(context)
        if experiment is None:
            return
        dry = context.get("dry")
        if dry:
            raise ActivityError(
                f"chaos run --dry {getattr(dry, 'value', dry)}: a dry run injects nothing and "
                "checks no tolerance, so chaosbed's run of this experiment would judge nothing"
            )
        stack, run_id = stack_of(configuration), new_run_id()
        files = _files(stack, run_id, arguments)
        session = Session(experiment, stack, files, on_stopped_early=_stop_ctk, run_id=run_id)
        log.info("chaosbed: run %s, journal %s", session.run_id, session.files.journal)
        session.start()
        session.wait_ready()
    except ActivityError as error:
        raise InterruptExecution(f"chaosbed: {error}") from None
    except Exception as error:  # CTK would log it at debug level and play the method
        raise InterruptExecution(f"chaosbed: could not start the run: {error!r}") from None


def before_method_control(context: dict[str, Any], **arguments: Any) -> None:
    """CTK's method begins: from now on chaosbed's run stopping the method (an abort
    condition, a step that failed) stops CTK's run too."""
    session = current()
    if session is not None:
        session.begin_method()


def after_method_control(context: dict[str, Any], **arguments: Any) -> None:
    """CTK's method ended: no more steps; chaosbed's run goes on to its tail and
    verdict. Ended by an interruption (Ctrl-C, SIGTERM, an exception: CTK calls this
    while it propagates), the run is stopped now, every fault rolled back."""
    session = current()
    if session is None:
        return
    interrupted = sys.exc_info()[0] is not None and not session.stopped_early
    session.end_method()
    if interrupted:
        session.stop()


def cleanup_control() -> None:
    """The very end (also after Ctrl-C): no run is left going. Never raises (CTK
    would crash before writing its journal)."""
    try:
        session = current()
        if session is not None and session.running:
            session.stop()
    except BaseException as error:  # noqa: BLE001 - said, never raised
        log.error("chaosbed: could not stop the run (%s); run `chaosbed cleanup`", error)


def agree(state: dict[str, Any], verdict: str) -> str | None:
    """Make CTK's journal (whose status and `deviated` decide `chaos run`'s exit
    status) agree with chaosbed's verdict; what was changed, if anything."""
    if state.get("status") != "completed" or verdict == "held":
        return None
    if verdict == "deviated":
        if state.get("deviated"):
            return None
        state["deviated"] = True
        return "deviated: chaosbed's verdict is deviated (CTK's hypothesis did not read it)"
    state["status"] = "failed"
    return f"status failed: chaosbed's verdict is {verdict}"


def _write_from_ctk(
    state: Mapping[str, Any], configuration: Mapping[str, Any] | None, arguments: Mapping[str, Any]
) -> dict[str, Any]:
    """chaosbed's journal, report (and JUnit, if asked) of a CTK run that carries no
    chaosbed experiment, from CTK's journal (chaos.ctk.journal): CTK's verdict, each
    activity an event, no SLI."""
    run_id = f"ctk-{new_run_id()}"
    files = _files(stack_of(configuration), run_id, arguments)
    journal = chaosbed_journal_of(state, "CTK's journal") | {"run_id": run_id}
    write_json(files.journal, journal)
    title = str(journal["experiment"].get("title", ""))
    return {"run": run_id} | write_outputs(files, title, "a Chaos Toolkit experiment")


def after_experiment_control(
    context: dict[str, Any],
    state: dict[str, Any],
    configuration: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """After the run, whatever its status: end chaosbed's run (a completed CTK run
    waits for its verdict; any other is interrupted, every fault rolled back), write
    its journal, report and JUnit, and roll back every fault the experiment's actions
    injected. `context` is the experiment; `state` CTK's journal, written after this
    hook."""
    said: dict[str, Any] = {"status": state.get("status"), "rolled_back": [], "failed": []}
    session = current()
    if session is not None:
        try:
            session.in_method = False  # no signal to CTK from now on
            finishing = state.get("status") == "completed" or session.stopped_early
            if not finishing or not session.wait():  # interrupted from CTK: roll back now
                session.stop()
            said["run"] = session.write()
            changed = agree(state, session.verdict)
            if changed is not None:
                said["changed"] = changed
        except BaseException as error:  # noqa: BLE001 - said, never raised
            said["failed"].append(f"chaosbed's run: {error!r}")
    try:
        stack = stack_of(configuration)
        for tag in tags_of(context, configuration, secrets):
            try:
                removed = run(faults.remove(stack, tag))
            except BaseException as error:  # noqa: BLE001 - said, never raised (a 2nd Ctrl-C too)
                said["failed"].append(f"tag {tag or '(none)'}: {error}")
                continue
            said["rolled_back"] += removed["rolled_back"]
            said["rules_removed"] = said.get("rules_removed", 0) + removed["rules_removed"]
    except BaseException as error:  # noqa: BLE001 - no stack found: nothing can be rolled back
        said["failed"].append(f"the stack: {error}")
    if session is None:  # after the rollbacks: the journal says how they went
        try:
            said["run"] = _write_from_ctk(state, configuration, kwargs)
        except BaseException as error:  # noqa: BLE001 - said, never raised
            said["failed"].append(f"chaosbed's journal of this run: {error!r}")
    for failure in said["failed"]:
        log.error("chaosbed control: could not roll back %s; run `chaosbed cleanup`", failure)
    state["chaosbed"] = said
