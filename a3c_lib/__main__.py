"""``python -m a3c_lib COMMAND …`` (see :mod:`a3c_lib.cli`)."""

import sys

from a3c_lib.cli import main

if __name__ == "__main__":
    sys.exit(main())
