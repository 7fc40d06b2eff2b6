"""The node agent: one pod per node (the DaemonSet in cluster/kubernetes/node-agent.yaml)
that reads the node's processes and answers the runner, through the Kubernetes
API server's proxy to the pod, which containers have which processes there.

    python -m chaos.runtime.cluster.node_agent    # in the chaosbed/service image

It shares the node's process namespace (`hostPID`) and nothing else: no
capability, no API token, a read-only root. It only reads /proc (each
process's cgroup and status, world-readable), so it can see a container's
processes and whether they are stopped, and cannot act on any.

    GET /processes?container=<id>&container=<id>...&pid=<pid>...

answers, in one pass over /proc (pod_processes.scan, pod_processes.running):

    {"node": "chaosbed-us",
     "containers": {"<id>": {"pids": [812, 840], "main": 812, "stopped": false}},
     "pods": ["<uid of every pod a process runs in>"],
     "running": {"812": "812 (state S, parent 790, 'python -m ...', cgroup /...)"}}

A container with no process on the node is left out of `containers`, a pid
that has ended (or is a zombie) out of `running`. Each container must be a
container id (64 lowercase hex digits), at most MAX_CONTAINERS of them, and
each pid a positive number, at most MAX_PIDS; anything else is refused with
400 and the reason. GET /healthz answers 200 once /proc can be read.

This is what the runner's instance and node state read on a cluster of other
machines: the pid of a pod's main process, whether it is paused, whether a
pod being deleted still has processes (runtime.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
from pathlib import Path

from aiohttp import web

from .pod_processes import running, scan

__all__ = ["AGENT_PORT", "MAX_CONTAINERS", "MAX_PIDS", "make_app"]

AGENT_PORT = 9098
#: The most container ids and pids one request may ask about: both fit in the 8 KiB
#: request line (the runner asks in batches).
MAX_CONTAINERS = 50
MAX_PIDS = 200
_CONTAINER_ID = re.compile(r"[0-9a-f]{64}")
PROC: web.AppKey[Path] = web.AppKey("proc", Path)
NODE: web.AppKey[str] = web.AppKey("node", str)

log = logging.getLogger("chaosbed.node_agent")


async def processes(request: web.Request) -> web.Response:
    wanted = request.query.getall("container", [])
    if len(wanted) > MAX_CONTAINERS:
        raise web.HTTPBadRequest(
            text=f"{len(wanted)} containers asked about: at most {MAX_CONTAINERS} a request\n"
        )
    bad = [given for given in wanted if not _CONTAINER_ID.fullmatch(given)]
    if bad:
        raise web.HTTPBadRequest(
            text=f"not a container id (64 lowercase hex digits): {bad[0][:80]!r}\n"
        )
    pids = request.query.getall("pid", [])
    if len(pids) > MAX_PIDS:
        raise web.HTTPBadRequest(
            text=f"{len(pids)} pids asked about: at most {MAX_PIDS} a request\n"
        )
    bad = [p for p in pids if not (p.isascii() and p.isdigit() and len(p) <= 10 and int(p) > 0)]
    if bad:
        raise web.HTTPBadRequest(text=f"not a pid: {bad[0][:80]!r}\n")
    proc = request.app[PROC]
    found = await asyncio.to_thread(scan, set(wanted), proc)
    alive = await asyncio.to_thread(running, {int(pid) for pid in pids}, proc)
    body = {
        "node": request.app[NODE],
        "containers": {
            cid: {"pids": list(p.pids), "main": p.main, "stopped": p.stopped}
            for cid, p in sorted(found.containers.items())
        },
        "pods": sorted(found.pods),
        "running": {str(pid): said for pid, said in sorted(alive.items())},
    }
    return web.json_response(body)


async def health(request: web.Request) -> web.Response:
    proc = request.app[PROC]
    if not (proc / "self" / "status").is_file() and not any(proc.glob("[0-9]*")):
        return web.Response(status=503, text=f"{proc} cannot be read\n")
    return web.Response(text="ok\n")


def make_app(proc: Path = Path("/proc"), node: str = "") -> web.Application:
    app = web.Application()
    app[PROC] = proc
    app[NODE] = node
    app.router.add_get("/processes", processes)
    app.router.add_get("/healthz", health)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chaos.runtime.cluster.node_agent")
    parser.add_argument("--port", type=int, default=AGENT_PORT)
    parser.add_argument("--proc", type=Path, default=Path("/proc"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    node = os.environ.get("NODE_NAME", "")
    log.info("reading %s for the runner on port %d (node %s)", args.proc, args.port, node or "?")
    # every address: the API server's proxy reaches the pod at its pod IP
    web.run_app(
        make_app(args.proc, node), host="0.0.0.0", port=args.port, access_log=None,  # noqa: S104
        print=None,
    )  # fmt: skip


if __name__ == "__main__":
    main()
