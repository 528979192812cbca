"""``python -m rantwin``: the ``rantwin`` command line (:mod:`rantwin.cli.main`).

For an environment where the console script is not on ``PATH``.
"""

import sys

from rantwin.cli.main import main

sys.exit(main())
