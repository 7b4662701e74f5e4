"""``python -m pytest_paysim serve``: the same as the ``paysim`` command."""

import sys

from pytest_paysim.cli import main

sys.exit(main())
