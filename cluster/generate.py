"""Generate the Kubernetes manifests of the stack from the topology.

    python cluster/generate.py           # rewrite cluster/kubernetes/*.yaml
    python cluster/generate.py --check   # exit 1, naming them, when they are out of date

The stack's shape (services, ports, modules, regions, who calls whom) is
declared once, in services/topology.py, as for compose (compose/generate.py);
this script writes what `kubectl apply` reads. The files are committed;
tests/cluster/test_manifests.py runs `--check` and reads them back.

- `chaosbed.yaml`: the namespace `chaosbed`; each stateless service as a
  Deployment of REPLICAS pods spread over the nodes, behind a Service of its
  name; each profiles replica as a StatefulSet of one pod on the nodes of its
  region (node label LABEL_REGION) with a volume of its own; Prometheus,
  finding the pods through the Kubernetes API (pod discovery in the
  namespace, with a Role that may only list and watch there) and recording
  the same rules as compose (compose/prometheus/rules). The control API's
  token comes from the Secret `chaosbed-control` (key `token`) when it exists.
- `local-volumes.yaml`: for a cluster without a volume provisioner (the
  one-machine cluster chaosbed builds), a local PersistentVolume per profiles
  replica on a node of its region, bound to that replica's claim.
- `../swarm/chaosbed-stack.yaml` and `../swarm/prometheus.yml`: the same
  stack for Docker Swarm (`docker stack deploy`): stateless services as
  REPLICAS tasks at most one per node, each profiles replica on a node
  labelled with its region, DNS round robin instead of the virtual-IP
  balancer and host-mode ports (these kernels have no IPVS), Prometheus
  finding the tasks through Swarm's DNS (`tasks.<service>`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from services.topology import (
    EDGES,
    PROMETHEUS_PORT,
    SERVICES,
    Service,
    url_variable,
)

CLUSTER_DIR = Path(__file__).resolve().parent
REPO = CLUSTER_DIR.parent
KUBERNETES_DIR = CLUSTER_DIR / "kubernetes"
STACK_FILE = KUBERNETES_DIR / "chaosbed.yaml"
SWARM_DIR = CLUSTER_DIR / "swarm"
SWARM_FILE = SWARM_DIR / "chaosbed-stack.yaml"
SWARM_PROMETHEUS_FILE = SWARM_DIR / "prometheus.yml"
#: The Swarm node label naming a node's region (`docker node update --label-add`).
SWARM_REGION = "chaosbed.region"
VOLUMES_FILE = KUBERNETES_DIR / "local-volumes.yaml"
RULES_DIR = REPO / "compose" / "prometheus" / "rules"
#: How long a pod being deleted keeps serving before its SIGTERM (its preStop hook):
#: longer than kube-proxy takes to drop it from every node's rules (about a second).
PRE_STOP_S = 3

NAMESPACE = "chaosbed"
#: The node label naming a node's region (us, eu, apac): profiles replicas are
#: placed by it, and a partition between regions is one between their nodes.
LABEL_REGION = "chaosbed.io/region"
LABEL_NAME = "app.kubernetes.io/name"
LABEL_PART_OF = "app.kubernetes.io/part-of"
LABEL_MONKEY = "chaosbed.io/monkey"
#: Pods of each stateless service: more than one, so losing a pod or a node is
#: a question about the others, not an outage.
REPLICAS = 2
SERVICE_IMAGE = "chaosbed/service:latest"
PROMETHEUS_IMAGE = "chaosbed/prometheus:latest"
#: The uid and gid of the service image's user (compose/service.Dockerfile).
SERVICE_USER = 10001
DATA_SIZE = "256Mi"
VOLUME_ROOT = "/var/lib/chaosbed/volumes"
SCRAPE_INTERVAL = "2s"
#: Prometheus's region (the node it runs on)
MONITORING_REGION = "us"
#: where the chaos runner serves its load generator's and monkey's /metrics, for
#: Prometheus (jobs `load` and `monkey`): keys load.json and monkey.json, file_sd lists
RUNNER_TARGETS = "chaosbed-runner-targets"
RUNNER_TARGETS_DIR = "/etc/prometheus/runner"
#: the Prometheus pod's discovery sidecar (chaos/runtime/cluster/discovery.py)
DISCOVERY_PORT = 9097
CONTROL_SECRET = "chaosbed-control"
GENERATED = "# Generated from services/topology.py by cluster/generate.py: edit those, not this.\n"


def _labels(service: Service) -> dict[str, str]:
    labels = {LABEL_NAME: service.name, LABEL_PART_OF: "chaosbed"}
    labels[LABEL_MONKEY] = "opt-in" if service.monkey else "opt-out"
    if service.region is not None:
        labels[LABEL_REGION] = service.region
    return labels


def service_link_url(name: str) -> str:
    """A dependency's URL from the variables Kubernetes sets for each Service of the
    namespace (`$(VAR)` is expanded by the kubelet): it needs no cluster DNS (the
    one-machine cluster has none: no DNS server image is built offline)."""
    variable = name.upper().replace("-", "_")
    return f"http://$({variable}_SERVICE_HOST):$({variable}_SERVICE_PORT)"


def _env(service: Service) -> list[dict[str, Any]]:
    called = sorted({dependency for _, dependency in EDGES})
    env: list[dict[str, Any]] = [
        {"name": "CHAOSBED_HOST", "value": "0.0.0.0"},
        {"name": "CHAOSBED_PORT", "value": str(service.port)},
        {"name": "CHAOSBED_LOG_LEVEL", "value": "INFO"},
        {
            "name": "CHAOSBED_CONTROL_TOKEN",
            "valueFrom": {
                "secretKeyRef": {"name": CONTROL_SECRET, "key": "token", "optional": True}
            },
        },
    ]
    env += [{"name": url_variable(name), "value": service_link_url(name)} for name in called]
    if service.region is not None:
        env.append({"name": "CHAOSBED_PROFILES_REGION", "value": service.region})
        env.append({"name": "CHAOSBED_PROFILES_DB", "value": f"/data/{service.name}.db"})
    return env


def _probe(path: str, period_s: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period_s,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def _security_context(user: int) -> dict[str, Any]:
    """Unprivileged: `user` (and its group), a read-only root, no capabilities."""
    return {
        "runAsUser": user,
        "runAsGroup": user,
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }


def _container(service: Service) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "service",
        "image": SERVICE_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-m", service.module],
        "ports": [{"name": "http", "containerPort": service.port}],
        "env": _env(service),
        "readinessProbe": _probe("/readyz", 2, 3),
        "livenessProbe": _probe("/healthz", 5, 3),
        # A pod being deleted leaves its Service's endpoints at once, but every node's
        # kube-proxy drops it from its rules a moment later: until then new connections
        # still reach it. SIGTERM closes the service's listener, so it waits first.
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRE_STOP_S)]}}},
        "securityContext": _security_context(SERVICE_USER),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    if service.region is not None:
        container["volumeMounts"].append({"name": "data", "mountPath": "/data"})
    return container


def _pod(service: Service) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": 10,
        "enableServiceLinks": True,  # the dependencies' URLs are made of them
        "securityContext": {"fsGroup": SERVICE_USER},
        "containers": [_container(service)],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    if service.region is not None:
        spec["nodeSelector"] = {LABEL_REGION: service.region}
    else:
        # on the region's nodes only, as every pod of the stack: a node fault or a cut
        # between regions then reaches every pod it names (on a cluster with other
        # nodes, none runs there unseen)
        in_a_region = {"key": LABEL_REGION, "operator": "Exists"}
        spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [in_a_region]}]
                }
            }
        }
        spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {LABEL_NAME: service.name}},
            }
        ]
    return {"metadata": {"labels": _labels(service)}, "spec": spec}


def _workload(service: Service) -> dict[str, Any]:
    selector = {"matchLabels": {LABEL_NAME: service.name}}
    metadata = {"name": service.name, "namespace": NAMESPACE, "labels": _labels(service)}
    if service.region is None:
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": metadata,
            "spec": {"replicas": REPLICAS, "selector": selector, "template": _pod(service)},
        }
    claim = {
        "metadata": {"name": "data"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": DATA_SIZE}},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": metadata,
        "spec": {
            "replicas": 1,
            "serviceName": service.name,
            "selector": selector,
            "template": _pod(service),
            "volumeClaimTemplates": [claim],
        },
    }


def _service(service: Service) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service.name, "namespace": NAMESPACE, "labels": _labels(service)},
        "spec": {
            "selector": {LABEL_NAME: service.name},
            "ports": [{"name": "http", "port": service.port, "targetPort": "http"}],
        },
    }


def prometheus_config() -> dict[str, Any]:
    """Scrape every chaosbed pod the API lists in the namespace, a job per service (the
    discovery sidecar lists them: Debian's Prometheus has no kubernetes_sd_configs)."""
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "scrape_timeout": SCRAPE_INTERVAL,
            "evaluation_interval": "5s",
            "external_labels": {"stack": "chaosbed"},
        },
        "rule_files": ["/etc/prometheus/rules/*.yml"],
        "scrape_configs": [
            {
                "job_name": "services",
                "http_sd_configs": [
                    {"url": f"http://127.0.0.1:{DISCOVERY_PORT}/targets", "refresh_interval": "2s"}
                ],
            },
            # what members see, and `chaosbed monkey`: the runner's endpoints, from the
            # ConfigMap RUNNER_TARGETS (optional: without it these jobs have no target)
            *(
                {
                    "job_name": job,
                    "file_sd_configs": [
                        {"files": [f"{RUNNER_TARGETS_DIR}/{job}.json"], "refresh_interval": "5s"}
                    ],
                }
                for job in ("load", "monkey")
            ),
            {
                "job_name": "prometheus",
                "scrape_interval": "10s",
                "scrape_timeout": "5s",
                "static_configs": [{"targets": [f"localhost:{PROMETHEUS_PORT}"]}],
            },
        ],
    }


def _prometheus() -> list[dict[str, Any]]:
    name = "prometheus"
    labels = {LABEL_NAME: name, LABEL_PART_OF: "chaosbed-monitoring"}
    metadata = {"name": name, "namespace": NAMESPACE, "labels": labels}
    rules = {path.name: path.read_text() for path in sorted(RULES_DIR.glob("*.yml"))}
    config = yaml.safe_dump(prometheus_config(), sort_keys=False)
    container = {
        "name": name,
        "image": PROMETHEUS_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": [
            "--config.file=/etc/prometheus/cluster/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            "--storage.tsdb.retention.time=2d",
            f"--web.listen-address=0.0.0.0:{PROMETHEUS_PORT}",
            # a runner that cannot be scraped (on a machine outside the cluster) pushes
            # its load generator's metrics
            "--web.enable-remote-write-receiver",
        ],
        "ports": [{"name": "http", "containerPort": PROMETHEUS_PORT}],
        "readinessProbe": {"httpGet": {"path": "/-/ready", "port": "http"}, "periodSeconds": 2},
        "securityContext": _security_context(65534),
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/prometheus/cluster"},
            {"name": "rules", "mountPath": "/etc/prometheus/rules"},
            {"name": "runner", "mountPath": RUNNER_TARGETS_DIR},
            {"name": "data", "mountPath": "/prometheus"},
        ],
    }
    discovery = {
        "name": "discovery",
        "image": SERVICE_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-m", "chaos.runtime.cluster.discovery"],
        "env": [{"name": "CHAOSBED_DISCOVERY_PORT", "value": str(DISCOVERY_PORT)}],
        "ports": [{"name": "discovery", "containerPort": DISCOVERY_PORT}],
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": "discovery"},
            "periodSeconds": 2,
        },
        "securityContext": _security_context(SERVICE_USER),
    }
    verbs = ["get", "list", "watch"]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata,
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": verbs}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {**metadata, "name": "prometheus-config"},
            "data": {"prometheus.yml": config},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {**metadata, "name": "prometheus-rules"},
            "data": rules,
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": metadata,
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {LABEL_NAME: name}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        # on the us node: a node fault on eu or apac never takes the
                        # judge of the run down (chaos/faults/node.py refuses its node)
                        "nodeSelector": {LABEL_REGION: MONITORING_REGION},
                        "serviceAccountName": name,
                        "containers": [container, discovery],
                        "volumes": [
                            {"name": "config", "configMap": {"name": "prometheus-config"}},
                            {"name": "rules", "configMap": {"name": "prometheus-rules"}},
                            {
                                "name": "runner",
                                "configMap": {"name": RUNNER_TARGETS, "optional": True},
                            },
                            {"name": "data", "emptyDir": {}},
                        ],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata,
            "spec": {
                "selector": {LABEL_NAME: name},
                "ports": [{"name": "http", "port": PROMETHEUS_PORT, "targetPort": "http"}],
            },
        },
    ]


def stack_documents() -> list[dict[str, Any]]:
    """Every object of chaosbed.yaml, in the order `kubectl apply` creates them."""
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": NAMESPACE, "labels": {LABEL_PART_OF: "chaosbed"}},
    }
    services = list(SERVICES.values())
    return [
        namespace,
        *(_service(s) for s in services),
        *(_workload(s) for s in services),
        *_prometheus(),
    ]


def volume_documents() -> list[dict[str, Any]]:
    """A local PersistentVolume per profiles replica, on its region's node, bound to its claim."""
    volumes = []
    for service in SERVICES.values():
        if service.region is None:
            continue
        region = {"key": LABEL_REGION, "operator": "In", "values": [service.region]}
        volumes.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": f"chaosbed-{service.name}", "labels": _labels(service)},
                "spec": {
                    "capacity": {"storage": DATA_SIZE},
                    "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain",
                    "storageClassName": "",
                    "claimRef": {"namespace": NAMESPACE, "name": f"data-{service.name}-0"},
                    "local": {"path": f"{VOLUME_ROOT}/{service.name}"},
                    "nodeAffinity": {
                        "required": {"nodeSelectorTerms": [{"matchExpressions": [region]}]}
                    },
                },
            }
        )
    return volumes


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (a config file in a ConfigMap) as literal blocks, readable."""


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def swarm_prometheus_config() -> dict[str, Any]:
    """A job per service, its tasks found through Swarm's DNS (`tasks.<service>`: an
    address per running task; dns_sd is in every Prometheus build)."""
    config = prometheus_config()
    config["scrape_configs"] = [
        {
            "job_name": service.name,
            "dns_sd_configs": [
                {
                    "names": [f"tasks.{service.name}"],
                    "type": "A",
                    "port": service.port,
                    "refresh_interval": "5s",
                }  # fmt: skip
            ],
        }
        for service in SERVICES.values()
    ] + [
        {
            "job_name": "prometheus",
            "scrape_interval": "10s",
            "scrape_timeout": "5s",
            "static_configs": [{"targets": [f"localhost:{PROMETHEUS_PORT}"]}],
        }
    ]
    return config


def _swarm_service(service: Service) -> dict[str, Any]:
    called = sorted({dependency for _, dependency in EDGES})
    environment = {
        "CHAOSBED_HOST": "0.0.0.0",
        "CHAOSBED_PORT": str(service.port),
        "CHAOSBED_LOG_LEVEL": "INFO",
        "CHAOSBED_CONTROL_TOKEN": "${CHAOSBED_CONTROL_TOKEN:-}",
        **{url_variable(name): f"http://{name}:{SERVICES[name].port}" for name in called},
    }
    placement: dict[str, Any] = {"max_replicas_per_node": 1}
    if service.region is not None:
        environment["CHAOSBED_PROFILES_REGION"] = service.region
        environment["CHAOSBED_PROFILES_DB"] = f"/data/{service.name}.db"
        placement = {"constraints": [f"node.labels.{SWARM_REGION} == {service.region}"]}
    labels = _labels(service)
    block: dict[str, Any] = {
        "image": SERVICE_IMAGE,
        "command": ["python", "-m", service.module],
        "user": f"{SERVICE_USER}:{SERVICE_USER}",
        "read_only": True,
        "tmpfs": ["/tmp"],
        "cap_drop": ["ALL"],
        "environment": environment,
        "networks": ["chaosbed"],
        "ports": [
            {"target": service.port, "published": service.port, "protocol": "tcp", "mode": "host"}
        ],  # fmt: skip
        "healthcheck": {
            "test": [
                "CMD",
                "python",
                "/opt/chaosbed/healthcheck.py",
                f"http://127.0.0.1:{service.port}/readyz",
            ],  # fmt: skip
            "interval": "5s",
            "timeout": "3s",
            "retries": 3,
            "start_period": "30s",
        },
        "stop_grace_period": "10s",
        "deploy": {
            "mode": "replicated",
            "replicas": 1 if service.region is not None else REPLICAS,
            "endpoint_mode": "dnsrr",
            "placement": placement,
            "restart_policy": {"condition": "any"},
            "labels": labels,
        },
    }
    if service.region is not None:
        block["volumes"] = [f"{service.name}-data:/data"]
    return block


def swarm_stack() -> dict[str, Any]:
    """The stack file for `docker stack deploy -c chaosbed-stack.yaml chaosbed`."""
    services = {s.name: _swarm_service(s) for s in SERVICES.values()}
    services["prometheus"] = {
        "image": PROMETHEUS_IMAGE,
        "read_only": True,
        "cap_drop": ["ALL"],
        "networks": ["chaosbed"],
        "configs": [{"source": "prometheus", "target": "/etc/prometheus/prometheus.yml"}],
        "volumes": ["prometheus-data:/prometheus"],
        "ports": [
            {
                "target": PROMETHEUS_PORT,
                "published": PROMETHEUS_PORT,
                "protocol": "tcp",
                "mode": "host",
            }
        ],  # fmt: skip
        "deploy": {
            "mode": "replicated",
            "replicas": 1,
            "endpoint_mode": "dnsrr",
            "placement": {"constraints": [f"node.labels.{SWARM_REGION} == {MONITORING_REGION}"]},
            "labels": {LABEL_NAME: "prometheus", LABEL_PART_OF: "chaosbed-monitoring"},
        },
    }
    volumes = [f"{s.name}-data" for s in SERVICES.values() if s.region is not None]
    return {
        "version": "3.8",
        "services": services,
        "networks": {"chaosbed": {"driver": "overlay", "attachable": True}},
        "volumes": {name: {} for name in [*volumes, "prometheus-data"]},
        "configs": {"prometheus": {"file": "./prometheus.yml"}},
    }


def _dump(documents: Iterable[dict[str, Any]]) -> str:
    return GENERATED + "".join(
        "---\n" + yaml.dump(document, Dumper=_Dumper, sort_keys=False) for document in documents
    )


def generated() -> dict[Path, str]:
    """Each generated file and the text it must hold."""
    return {
        STACK_FILE: _dump(stack_documents()),
        VOLUMES_FILE: _dump(volume_documents()),
        SWARM_FILE: GENERATED
        + _swarm_usage()
        + yaml.dump(swarm_stack(), Dumper=_Dumper, sort_keys=False),  # fmt: skip
        SWARM_PROMETHEUS_FILE: GENERATED
        + yaml.dump(swarm_prometheus_config(), Dumper=_Dumper, sort_keys=False),
    }


def _swarm_usage() -> str:
    return (
        '# chaosbed on Docker Swarm (docs/cluster.md, "On Docker Swarm"):\n'
        f"#   docker node update --label-add {SWARM_REGION}=us <node>   # and eu, apac\n"
        "#   docker stack deploy -c cluster/swarm/chaosbed-stack.yaml chaosbed\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the files are stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(REPO)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print(f"stale generated files (run `make generate`): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
