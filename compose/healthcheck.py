"""Container healthcheck: exit 0 when the service answers its readiness probe.

    python /opt/chaosbed/healthcheck.py [URL]

URL defaults to http://127.0.0.1:$CHAOSBED_PORT/readyz. Standard library only,
so it works in any base image without curl.
"""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    port = os.environ.get("CHAOSBED_PORT", "8080")
    url = sys.argv[1] if len(sys.argv) > 1 else f"http://127.0.0.1:{port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
