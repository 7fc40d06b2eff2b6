"""Record the per-request samples the A/A and A/B tests resample
(tests/chaos/compare/samples/*.json): member traffic from the load generator
against a running stack with no fault, half the members in each cohort, so
both cohorts see the same arrival process and the same mix.

    .venv/bin/chaosbed up --port-base 23000
    .venv/bin/python -m tests.chaos.compare.record_samples --port-base 23000 \
        --seconds 60 --out tests/chaos/compare/samples/process-no-fault.json
    .venv/bin/chaosbed down --port-base 23000
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from chaos.experiment.model import LoadSpec
from chaos.load.config import LoadConfig, Targets
from chaos.load.generator import LoadGenerator
from chaos.load.outcome import Sample
from chaos.runtime.layout import StackPorts


async def record(port_base: int, seconds: float, rate: float) -> list[Sample]:
    ports = StackPorts.from_base(port_base)
    entries = ("catalog", "recommendations", "playback", "profiles")
    targets = Targets(**{s: f"http://127.0.0.1:{ports.services[s]}" for s in entries})
    spec = LoadSpec(
        rate=rate,
        mix={"homepage": 50, "play": 30, "title": 20},
        experiment_percent=50,
        members=400,
        timeout=2.0,
        seed=17,
    )
    samples: list[Sample] = []
    generator = LoadGenerator(
        LoadConfig(spec=spec, duration=seconds, targets=targets), observers=[samples.append]
    )
    await generator.run()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port-base", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    samples = asyncio.run(record(args.port_base, args.seconds, args.rate))
    document = {
        "how": "tests/chaos/compare/record_samples.py: no fault, 50% of members per cohort",
        "rate": args.rate,
        "seconds": args.seconds,
        "samples": [
            [s.journey, s.cohort, round(s.latency * 1000, 2), int(s.good)] for s in samples
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    print(f"{len(samples)} samples -> {args.out}")


if __name__ == "__main__":
    main()
