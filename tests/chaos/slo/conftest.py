"""A small real stack on loopback for the SLO backends: catalog, profiles and
recommendations (the real apps, each on an ephemeral port), and `Members`:
the test's own member traffic, which exports the member-side series under
the load generator's names on a /metrics endpoint of its own."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from chaos.slo import ScrapeTarget
from services.catalog.app import create_app as create_catalog
from services.catalog.settings import CatalogSettings
from services.common import DependencySettings, ServiceSettings
from services.common.metrics import LATENCY_BUCKETS
from services.profiles.app import create_app as create_profiles
from services.profiles.settings import ProfilesSettings
from services.recommendations import RecommendationsSettings
from services.recommendations import create_app as create_recommendations

CONTROL_TOKEN = "slo-test-token"


class Members:
    """Sends member requests and counts what each member saw, by journey and outcome."""

    def __init__(self, session: aiohttp.ClientSession, timeout_s: float = 1.0) -> None:
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "chaosbed_member_requests_total",
            "Member requests by outcome.",
            ["journey", "service", "cohort", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "chaosbed_member_request_duration_seconds",
            "Member-side response time.",
            ["journey", "service", "cohort"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    async def request(self, journey: str, service: str, url: str) -> str:
        started = time.monotonic()
        try:
            async with self.session.get(url, timeout=self.timeout) as response:
                await response.read()
                outcome = "error" if response.status >= 500 else "ok"
        except TimeoutError:
            outcome = "timeout"
        except aiohttp.ClientError:
            outcome = "unreachable"
        self.requests.labels(journey, service, "control", outcome).inc()
        self.duration.labels(journey, service, "control").observe(time.monotonic() - started)
        return outcome

    def app(self) -> web.Application:
        async def metrics(request: web.Request) -> web.Response:
            return web.Response(body=generate_latest(self.registry), content_type="text/plain")

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        return app


@dataclass
class Stack:
    catalog: TestServer
    profiles: TestServer
    recommendations: TestServer
    members_server: TestServer
    members: Members

    def __post_init__(self) -> None:
        # kept: a closed TestServer no longer makes URLs
        servers = {
            "catalog": self.catalog,
            "profiles": self.profiles,
            "recommendations": self.recommendations,
            "load": self.members_server,
        }
        self.urls = {job: str(s.make_url("")).rstrip("/") for job, s in servers.items()}

    def targets(self) -> list[ScrapeTarget]:
        return [ScrapeTarget(job, f"{url}/metrics") for job, url in self.urls.items()]

    async def one_round(self, title: int = 1) -> None:
        """One member request to catalog (title) and one homepage (recommendations)."""
        await asyncio.gather(
            self.members.request("title", "catalog", f"{self.urls['catalog']}/titles/{title}"),
            self.members.request(
                "homepage",
                "recommendations",
                f"{self.urls['recommendations']}/recommendations/m-1",
            ),
        )

    async def fault(self, rule: dict[str, Any]) -> None:
        async with self.members.session.post(
            f"{self.urls['catalog']}/_chaos/faults",
            json=rule,
            headers={"Authorization": f"Bearer {CONTROL_TOKEN}"},
        ) as response:
            assert response.status == 201, await response.text()


def dependency(name: str, url: str) -> DependencySettings:
    return DependencySettings(name=name, base_url=url, timeout_s=0.5, attempts=2, backoff_s=0.01)


@pytest.fixture
async def stack(aiohttp_server: Any, tmp_path: Any) -> Any:
    catalog = await aiohttp_server(
        create_catalog(
            CatalogSettings(ServiceSettings("catalog", 0, control_token=CONTROL_TOKEN), size=500)
        )
    )
    profiles = await aiohttp_server(
        create_profiles(
            ProfilesSettings(ServiceSettings("profiles", 0), db_path=tmp_path / "profiles.db")
        )
    )
    recommendations = await aiohttp_server(
        create_recommendations(
            RecommendationsSettings(
                service=ServiceSettings("recommendations", 0),
                profiles=dependency("profiles", str(profiles.make_url("")).rstrip("/")),
                catalog=dependency("catalog", str(catalog.make_url("")).rstrip("/")),
            )
        )
    )
    async with aiohttp.ClientSession() as session:
        members = Members(session)
        members_server = await aiohttp_server(members.app())
        yield Stack(catalog, profiles, recommendations, members_server, members)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
