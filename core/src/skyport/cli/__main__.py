"""``python -m skyport.cli``: the same as the ``skyport`` command."""

import sys

from skyport.cli import main

sys.exit(main())
