"""chaosbed's benchmark suite: ``python -m benchmarks`` (or ``make bench``).

Each module measures one thing against a baseline taken in the same run, on
loopback ports, with the real services where a service is involved:

- kit_overhead: the kit's cost per hop against a bare aiohttp hop (p50, p99,
  garbage collections);
- retry_amplification: requests reaching a dead leaf per member request,
  through two hops;
- blackhole: homepage availability and p99 with profiles blackholed;
- breaker_timing: how fast a breaker opens and closes against its reset timeout;
- runner_figures: the chaos runner's time from a breach to its detection
  (prometheus and scrape backends), from detection to rollback, its load
  generator's achieved rate and its CPU at 100 requests per second.

The runner (__main__.py) prints one table and writes the rows as JSON.
"""
