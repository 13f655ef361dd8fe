"""``python -m memrnn``: see ``memrnn.cli``."""

import sys

from .cli import main

sys.exit(main())
