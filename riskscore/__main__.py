"""``python -m riskscore`` runs the command line."""

import sys

from riskscore.cli import main

sys.exit(main())
