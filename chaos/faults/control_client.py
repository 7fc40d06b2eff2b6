"""A small client of the services' fault control API (`/_chaos/faults`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode

__all__ = ["ControlApiError", "ControlClient"]


class ControlApiError(ChaosbedError):
    """The control API refused a request or could not be reached."""

    exit_code = ExitCode.INFRASTRUCTURE_FAILED


class ControlClient:
    """Talks to every service's control API with the stack's bearer token.

    `base_urls` maps a service name to its base URL (`http://127.0.0.1:8081`).
    """

    def __init__(
        self,
        base_urls: Mapping[str, str],
        token: str,
        session: aiohttp.ClientSession,
        *,
        timeout: float = 3.0,
    ) -> None:
        self._urls = dict(base_urls)
        self._headers = {"Authorization": f"Bearer {token}"}
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(self._urls)

    def _url(self, service: str, path: str = "") -> str:
        try:
            return f"{self._urls[service]}/_chaos/faults{path}"
        except KeyError:
            raise ControlApiError(f"no such service {service!r}") from None

    async def _call(
        self,
        method: str,
        service: str,
        path: str = "",
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> tuple[int, Any]:
        url = self._url(service, path)
        try:
            async with self._session.request(
                method, url, json=json, params=params, headers=self._headers, timeout=self._timeout
            ) as resp:
                body = await resp.json(content_type=None)
                if resp.status not in ok:
                    message = body.get("error") if isinstance(body, dict) else body
                    raise ControlApiError(
                        f"{service}: {method} {path or '/_chaos/faults'} answered "
                        f"{resp.status}: {message}"
                    )
                return resp.status, body
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ControlApiError(f"{service}: control API unreachable ({exc!r})") from exc

    async def add(self, service: str, rule: Mapping[str, Any]) -> dict[str, Any]:
        _, body = await self._call("POST", service, json=dict(rule))
        if not isinstance(body, dict) or "id" not in body:
            raise ControlApiError(f"{service}: the control API's answer has no rule id: {body!r}")
        return body

    async def list(self, service: str, tag: str | None = None) -> list[dict[str, Any]]:
        params = {"tag": tag} if tag else None
        _, body = await self._call("GET", service, params=params)
        faults = body.get("faults", []) if isinstance(body, dict) else []
        if tag:  # an older service may ignore the filter: apply it here too
            faults = [f for f in faults if f.get("tag") == tag]
        return [f for f in faults if isinstance(f, dict)]

    async def remove(self, service: str, rule_id: str) -> bool:
        """Remove one rule; False when it was already gone (expired)."""
        status, _ = await self._call("DELETE", service, f"/{rule_id}", ok=(200, 404))
        return status == 200

    async def remove_tag(self, service: str, tag: str) -> int:
        if not tag:
            raise ValueError("refusing to remove rules by an empty tag")
        _, body = await self._call("DELETE", service, params={"tag": tag})
        removed = body.get("removed", 0) if isinstance(body, dict) else 0
        return int(removed)
