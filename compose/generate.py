"""Generate compose/docker-compose.yml and compose/prometheus/prometheus.yml from the topology.

    python compose/generate.py           # rewrite both files
    python compose/generate.py --check   # exit 1, naming them, when they are out of date

The services, their ports, modules, start order and regions are declared
once, in services/topology.py; this script writes the files compose and
Prometheus read. The files are committed (`docker compose` reads them as
they are); tests/compose/test_compose_files.py runs `--check`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from services.topology import (
    EDGES,
    GRAFANA_PORT,
    LOAD_GENERATOR_PORT,
    MONKEY_PORT,
    PORTS,
    PROMETHEUS_PORT,
    SERVICES,
    Service,
    host_port_variable,
    url_variable,
)

COMPOSE_DIR = Path(__file__).resolve().parent
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
PROMETHEUS_FILE = COMPOSE_DIR / "prometheus" / "prometheus.yml"
#: The compose monkey's default menu: `chaosbed monkey`'s on docker (a test holds them equal).
MONKEY_FAULTS = "kill=2,pause=1,restart=1,latency=1,error=1,partition=1"
GENERATED = "# Generated from services/topology.py by compose/generate.py: edit those, not this.\n"

COMPOSE_HEAD = """\
# chaosbed in containers: the four services (profiles as three replicas, one
# per region: profiles = us, profiles-eu, profiles-apac, each with its own
# volume), Prometheus scraping them and (in the `grafana` profile) Grafana
# with the dashboards provisioned.
#
#   docker compose -f compose/docker-compose.yml up -d --wait        # build if needed, start
#   docker compose -f compose/docker-compose.yml --profile grafana up -d --wait
#   docker compose -f compose/docker-compose.yml down -v              # stop, drop the volumes
#
# Offline (no registry, as on chaosbed's own machines): `bash compose/build-images.sh`
# first; it builds the images below from local bases, and `up` then uses them.
# Grafana's image cannot be built offline (no local base), so Grafana is in the
# `grafana` profile and the stack runs without it.
#
# Start order follows the call graph (recommendations and playback after
# catalog and profiles are healthy); after that each container restarts on
# its own and the services ride out a missing dependency with fallbacks.
#
# Every port is published on 127.0.0.1 only, on the usual ports unless
# CHAOSBED_<SERVICE>_HOST_PORT says otherwise (e.g. CHAOSBED_CATALOG_HOST_PORT,
# CHAOSBED_PROFILES_EU_HOST_PORT: a `-` in the service name is a `_` here;
# CHAOSBED_LOAD_TARGETS: a file_sd file naming where Prometheus scrapes the
# load generator, default prometheus/load-targets.json: the host on {load};
# CHAOSBED_MONKEY_TARGETS: the same for `chaosbed monkey`'s metrics, default
# prometheus/monkey-targets.json: the host on {monkey}).
# The control API (/_chaos/faults) is on only when CHAOSBED_CONTROL_TOKEN is
# set, in the environment or in compose/.env (see .env.example); unset, the
# services say so in their log.
name: chaosbed

x-service: &service
  image: chaosbed/service:${{CHAOSBED_TAG:-latest}}
  build:
    context: ..
    dockerfile: compose/service.Dockerfile
    args:
      PYTHON_BASE: ${{CHAOSBED_PYTHON_BASE:-python:3.11-slim-bookworm}}
  restart: unless-stopped
  user: "10001:10001"
  read_only: true
  tmpfs:
    - /tmp
  cap_drop: [ALL]
  security_opt:
    - no-new-privileges:true
  stop_grace_period: 10s
  logging:
    driver: json-file
    options:
      max-size: 10m
      max-file: "3"

x-service-env: &service-env
  CHAOSBED_HOST: 0.0.0.0
  CHAOSBED_CONTROL_TOKEN: ${{CHAOSBED_CONTROL_TOKEN:-}}
  CHAOSBED_LOG_LEVEL: ${{CHAOSBED_LOG_LEVEL:-INFO}}
  # a named regression switched on (docs/mutants.md); empty: none, always by default
  CHAOSBED_MUTANT: ${{CHAOSBED_MUTANT:-}}
{urls}
x-healthcheck: &healthcheck
  interval: 5s
  timeout: 3s
  retries: 3
  start_period: 30s

services:
"""

COMPOSE_TAIL = """\
  prometheus:
    image: chaosbed/prometheus:${{CHAOSBED_TAG:-latest}}
    build:
      context: ..
      dockerfile: compose/prometheus.Dockerfile
      args:
        PROMETHEUS_BASE: ${{CHAOSBED_PROMETHEUS_BASE:-prom/prometheus:v2.53.3}}
    restart: unless-stopped
    read_only: true
    cap_drop: [ALL]
    security_opt:
      - no-new-privileges:true
    # The job `load` scrapes the chaos runner's load generator on the host:
    # host-gateway is the host's address on docker0 (chaosbed's runtime reads
    # it back from this container's /etc/hosts and binds the load metrics there).
    extra_hosts:
      - "host.docker.internal:host-gateway"
    volumes:
      - prometheus-data:/prometheus
      # where the job `load` finds the load generator: the host on {load}, or the
      # file chaosbed writes for a stack on another port base
      - {load_targets}
      # where the job `monkey` finds `chaosbed monkey`'s metrics: the host on {monkey},
      # or the file chaosbed writes for a stack on another port base
      - {monkey_targets}
    ports:
      - "127.0.0.1:${{{prometheus_variable}:-{prometheus}}}:{prometheus}"
    healthcheck:
      <<: *healthcheck
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:{prometheus}/-/ready"]

  # `chaosbed monkey` on this stack from a container of its own:
  # `docker compose --profile chaos up -d` (docs/monkey.md). It acts through the
  # Docker engine (its socket, hence root) and the stack's loopback ports
  # (network_mode: host), as the command does on the host; its journal is in the
  # volume monkey-state. SIGTERM (`docker compose stop monkey`) rolls back what it
  # holds before it exits.
  monkey:
    profiles: [chaos]
    image: chaosbed/service:${{CHAOSBED_TAG:-latest}}
    command: ["python", "-m", "chaos", "monkey", "--runtime", "docker", "--state-dir", "/state",
              "--mean", "${{CHAOSBED_MONKEY_MEAN:-60s}}",
              "--hold", "${{CHAOSBED_MONKEY_HOLD:-10s}}",
              "--faults", "${{CHAOSBED_MONKEY_FAULTS:-{monkey_faults}}}",
              "--window", "${{CHAOSBED_MONKEY_WINDOW:-always}}",
              "--control-port", "${{{monkey_variable}:-{monkey}}}"]
    user: "0:0"
    network_mode: host
    restart: on-failure:3
    stop_grace_period: 90s
    environment:
      CHAOSBED_CONTROL_TOKEN: ${{CHAOSBED_CONTROL_TOKEN:-}}
      CHAOSBED_PORT_BASE: ${{CHAOSBED_PORT_BASE:-}}
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - monkey-state:/state
    depends_on:
      prometheus:
        condition: service_healthy
    healthcheck:
      <<: *healthcheck
      test: ["CMD", "python", "/opt/chaosbed/healthcheck.py",
             "http://127.0.0.1:${{{monkey_variable}:-{monkey}}}/status"]

  # Not built offline: there is no local base for grafana/grafana here.
  grafana:
    profiles: [grafana]
    image: chaosbed/grafana:${{CHAOSBED_TAG:-latest}}
    build:
      context: ..
      dockerfile: compose/grafana.Dockerfile
      args:
        GRAFANA_BASE: ${{CHAOSBED_GRAFANA_BASE:-grafana/grafana:11.3.0}}
    restart: unless-stopped
    environment:
      GF_SECURITY_ADMIN_PASSWORD: ${{GRAFANA_ADMIN_PASSWORD:-admin}}
    volumes:
      - grafana-data:/var/lib/grafana
    ports:
      - "127.0.0.1:${{{grafana_variable}:-{grafana}}}:{grafana}"
    depends_on:
      prometheus:
        condition: service_healthy
    healthcheck:
      <<: *healthcheck
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:{grafana}/api/health"]

volumes:
{volumes}"""

PROMETHEUS_HEAD = """\
# Prometheus for the chaosbed compose stack: scrapes every service (and the
# load generator's member-side metrics) every 2s
# (chaos experiments read SLIs about once a second, so short intervals matter)
# and records the SLIs in rules/.
global:
  scrape_interval: 2s
  scrape_timeout: 2s
  evaluation_interval: 5s
  external_labels:
    stack: chaosbed

rule_files:
  - /etc/prometheus/rules/*.yml

scrape_configs:
  # One job per service; the services label their own series with `service`.
"""

PROMETHEUS_TAIL = """\
  # What members see: the chaos runner's load generator, on the host (see
  # extra_hosts in docker-compose.yml); down while no experiment runs. Its
  # port is the stack's: {load} (load-targets.json beside this file), or the
  # file chaosbed writes for a stack on a port base (CHAOSBED_LOAD_TARGETS).
  - job_name: load
    file_sd_configs:
      - files: ["/etc/prometheus/load-targets.json"]
        refresh_interval: 1m
  # `chaosbed monkey`'s actions and active faults (the dashboards' annotations),
  # on the host like the load generator; down while no monkey runs. Its port is
  # the stack's: {monkey} (monkey-targets.json), or CHAOSBED_MONKEY_TARGETS.
  - job_name: monkey
    file_sd_configs:
      - files: ["/etc/prometheus/monkey-targets.json"]
        refresh_interval: 1m
  - job_name: prometheus
    scrape_interval: 10s
    scrape_timeout: 5s
    static_configs:
      - targets: ["localhost:{prometheus}"]
"""


def _volume(service: Service) -> str:
    return f"{service.name}-data"


def _service_block(service: Service) -> str:
    port = service.port
    lines = [f"  {service.name}:", "    <<: *service"]
    lines.append(f'    command: ["python", "-m", "{service.module}"]')
    monkey = "opt-in" if service.monkey else "opt-out"
    lines += ["    labels:", f'      chaosbed.monkey: "{monkey}"  # may chaosbed monkey choose it']
    if service.starts_after:
        lines.append("    depends_on:")
        for name in service.starts_after:
            lines += [f"      {name}:", "        condition: service_healthy"]
    lines += ["    environment:", "      <<: *service-env", f'      CHAOSBED_PORT: "{port}"']
    if service.region is not None:
        lines.append(f"      CHAOSBED_PROFILES_REGION: {service.region}")
        lines.append(f"      CHAOSBED_PROFILES_DB: /data/{service.name}.db")
        lines += ["    volumes:", f"      - {_volume(service)}:/data"]
    lines += [
        "    ports:",
        f'      - "127.0.0.1:${{{host_port_variable(service.name)}:-{port}}}:{port}"',
        "    healthcheck:",
        "      <<: *healthcheck",
        '      test: ["CMD", "python", "/opt/chaosbed/healthcheck.py",'
        f' "http://127.0.0.1:{port}/readyz"]',
    ]
    return "\n".join(lines) + "\n\n"


def compose_file() -> str:
    """docker-compose.yml: every service of the topology, then Prometheus and Grafana."""
    services = list(SERVICES.values())
    called = {dependency for _, dependency in EDGES}
    urls = "".join(
        f"  {url_variable(s.name)}: http://{s.name}:{s.port}\n"
        for s in services
        if s.name in called
    )
    volumes = [_volume(s) for s in services if s.region is not None]
    volumes += ["prometheus-data", "monkey-state", "grafana-data"]
    return (
        GENERATED
        + COMPOSE_HEAD.format(urls=urls, load=LOAD_GENERATOR_PORT, monkey=MONKEY_PORT)
        + "".join(_service_block(s) for s in services)
        + COMPOSE_TAIL.format(
            load=LOAD_GENERATOR_PORT,
            prometheus=PROMETHEUS_PORT,
            grafana=GRAFANA_PORT,
            prometheus_variable=host_port_variable("prometheus"),
            grafana_variable=host_port_variable("grafana"),
            monkey_variable=host_port_variable("monkey"),
            load_targets="${CHAOSBED_LOAD_TARGETS:-./prometheus/load-targets.json}"
            ":/etc/prometheus/load-targets.json:ro",
            monkey=MONKEY_PORT,
            monkey_faults=MONKEY_FAULTS,
            monkey_targets="${CHAOSBED_MONKEY_TARGETS:-./prometheus/monkey-targets.json}"
            ":/etc/prometheus/monkey-targets.json:ro",
            volumes="".join(f"  {volume}:\n" for volume in volumes),
        )
    )


def prometheus_file() -> str:
    """prometheus.yml: a job per service (named after it), the load generator and itself."""
    jobs = "".join(
        f'  - job_name: {name}\n    static_configs:\n      - targets: ["{name}:{port}"]\n'
        for name, port in PORTS.items()
    )
    tail = PROMETHEUS_TAIL.format(
        load=LOAD_GENERATOR_PORT, monkey=MONKEY_PORT, prometheus=PROMETHEUS_PORT
    )
    return GENERATED + PROMETHEUS_HEAD + jobs + tail


def generated() -> dict[Path, str]:
    """Each generated file and the text it must hold."""
    return {COMPOSE_FILE: compose_file(), PROMETHEUS_FILE: prometheus_file()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the files are stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(COMPOSE_DIR.parent)))
        else:
            path.write_text(text)
    if stale:
        print(f"stale generated files (run `make generate`): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
