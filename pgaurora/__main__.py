"""`python -m pgaurora`: the same as the `pgaurora` console script (pgaurora.cli)."""

import sys

from pgaurora.cli import main

sys.exit(main())
