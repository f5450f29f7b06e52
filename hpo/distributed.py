"""`python -m hpo.distributed chief|worker ...`: one role of Keras Tuner's distributed mode.

The code is `hpo.parallel.distributed`; this module is the command's stable name.
"""

import sys

from hpo.parallel.distributed import main

if __name__ == "__main__":
    sys.exit(main())
