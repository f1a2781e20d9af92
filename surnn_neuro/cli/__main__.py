"""``python -m surnn_neuro.cli``: the ``surnn-neuro`` command."""

import sys

from surnn_neuro.cli import main

sys.exit(main())
