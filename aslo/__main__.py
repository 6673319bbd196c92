"""Allow ``python -m aslo``."""

import sys

from aslo.cli import main

sys.exit(main())
