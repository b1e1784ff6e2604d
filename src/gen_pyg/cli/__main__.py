"""``python -m gen_pyg.cli``: the ``gen-pyg`` command."""

import sys

from gen_pyg.cli import main

sys.exit(main())
