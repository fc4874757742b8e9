"""Run the simulator: ``python -m simulator [options] SOURCE...``."""

import sys

from .cli import main

sys.exit(main())
