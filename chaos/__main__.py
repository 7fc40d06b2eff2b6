"""`python -m chaos`: the chaosbed command line."""

import sys

from chaos.cli import main

sys.exit(main())
