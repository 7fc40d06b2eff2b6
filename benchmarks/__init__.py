"""chaosbed's benchmark suite: ``python -m benchmarks`` (or ``make bench``).

Each module measures one thing against a baseline taken in the same run, on
loopback ports, with the real services where a service is involved:

- kit_overhead: the kit's cost per hop against a bare aiohttp hop (p50, p99,
  garbage collections);
- retry_amplification: requests reaching a dead leaf per member request,
  through two hops;
- blackhole: homepage availability and p99 with profiles blackholed;
- breaker_timing: how fast a breaker opens and closes against its reset timeout.

The runner (__main__.py) prints one table and writes the rows as JSON.
"""
