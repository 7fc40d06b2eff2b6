"""Pod discovery for Prometheus on Kubernetes: a sidecar in Prometheus's pod that
lists the stack's pods through the Kubernetes API and serves them to
Prometheus as HTTP service discovery (`http_sd_configs`).

    python -m chaos.runtime.cluster.discovery    # in the chaosbed/service image

Debian's Prometheus (the one chaosbed's images carry: no registry here serves
prom/prometheus) is built without `kubernetes_sd_configs`; HTTP discovery it
has. The sidecar does what that discovery would for `role: pod`: every
`LIST_INTERVAL_S` it lists the pods of its namespace labelled
`app.kubernetes.io/part-of=chaosbed`, with the service account's token, and
answers GET /targets with one target group per running pod that has an
address and a container port named `http`:

    [{"targets": ["10.244.1.2:8081"],
      "labels": {"job": "catalog", "pod": "catalog-5d9f-x2", "node": "chaosbed-us"}}]

`job` is the pod's `app.kubernetes.io/name`. Until the first list succeeds it
answers 503 (Prometheus then keeps what it had: nothing); a failed list later
keeps the last good answer, and /healthz says how old it is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import ssl
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from .cluster import NAME_LABEL
from .cluster import PART_OF as PART_OF_KEY

__all__ = ["PART_OF", "targets_of"]

ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
PART_OF = "chaosbed"
PORT_NAME = "http"
LIST_INTERVAL_S = 2.0
LISTEN_PORT = 9097

log = logging.getLogger("chaosbed.discovery")


def targets_of(pods: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """HTTP service discovery's target groups for a pod list's items: one per running
    pod with an address and a container port named `http`, sorted by pod."""
    groups = []
    for pod in pods:
        metadata, spec, status = pod["metadata"], pod.get("spec", {}), pod.get("status", {})
        labels = metadata.get("labels", {})
        address = status.get("podIP")
        if labels.get(PART_OF_KEY) != PART_OF or not address:
            continue
        if status.get("phase") != "Running" or metadata.get("deletionTimestamp"):
            continue
        ports = [
            port["containerPort"]
            for container in spec.get("containers", [])
            for port in container.get("ports", [])
            if port.get("name") == PORT_NAME
        ]
        for port in ports:
            groups.append(
                {
                    "targets": [f"{address}:{port}"],
                    "labels": {
                        "job": labels.get(NAME_LABEL, metadata["name"]),
                        "pod": metadata["name"],
                        "node": spec.get("nodeName", ""),
                    },
                }
            )
    return sorted(groups, key=lambda group: group["labels"]["pod"])


class Discovery:
    def __init__(self, server: str, token_file: Path, ca_file: Path, namespace: str) -> None:
        self.server = server
        self.token_file = token_file
        self.ssl = ssl.create_default_context(cafile=str(ca_file))
        self.namespace = namespace
        self.groups: list[dict[str, Any]] | None = None
        self.listed_at = 0.0
        self.last_error = ""

    async def list_once(self, session: ClientSession) -> None:
        token = self.token_file.read_text().strip()  # rotated tokens are read each time
        url = f"{self.server}/api/v1/namespaces/{self.namespace}/pods"
        async with session.get(
            url,
            params={"labelSelector": f"{PART_OF_KEY}={PART_OF}"},
            headers={"Authorization": f"Bearer {token}"},
            ssl=self.ssl,
        ) as answer:
            if answer.status != 200:
                raise RuntimeError(f"HTTP {answer.status}: {(await answer.text())[:200]}")
            body = await answer.json()
        self.groups = targets_of(body.get("items", []))
        self.listed_at = time.monotonic()

    async def run(self) -> None:
        async with ClientSession(timeout=ClientTimeout(total=5)) as session:
            while True:
                try:
                    await self.list_once(session)
                    self.last_error = ""
                except Exception as error:  # noqa: BLE001 - any failure: keep the last list, retry
                    if str(error) != self.last_error:
                        log.warning("listing pods failed: %s", error)
                    self.last_error = str(error)
                await asyncio.sleep(LIST_INTERVAL_S)

    async def targets(self, request: web.Request) -> web.Response:
        if self.groups is None:
            return web.Response(status=503, text=f"no pod list yet: {self.last_error}\n")
        return web.json_response(self.groups)

    async def health(self, request: web.Request) -> web.Response:
        age = time.monotonic() - self.listed_at if self.groups is not None else None
        body = {"listed_s_ago": age, "targets": len(self.groups or []), "error": self.last_error}
        healthy = age is not None and age < 10 * LIST_INTERVAL_S
        return web.Response(status=200 if healthy else 503, text=json.dumps(body) + "\n")


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    namespace = (ACCOUNT / "namespace").read_text().strip()
    discovery = Discovery(
        f"https://{host}:{port}", ACCOUNT / "token", ACCOUNT / "ca.crt", namespace
    )
    app = web.Application()
    app.router.add_get("/targets", discovery.targets)
    app.router.add_get("/healthz", discovery.health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    listen = int(os.environ.get("CHAOSBED_DISCOVERY_PORT", LISTEN_PORT))
    await web.TCPSite(runner, "0.0.0.0", listen).start()  # noqa: S104 - the kubelet probes /healthz
    log.info("serving the pods of %s on port %d: /targets", namespace, listen)
    await discovery.run()


if __name__ == "__main__":
    asyncio.run(main())
