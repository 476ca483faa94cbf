"""`python -m tests.run_shifted MODULE ARGS…`: run MODULE as `python -m` would, with this process's
clock moved by TESTS_CLOCK_OFFSET seconds when it is set (see tests/clock.py)."""

import os
import runpy
import sys

from tests.clock import OFFSET_ENV, shift

if __name__ == "__main__":
    if offset := os.environ.get(OFFSET_ENV):
        shift(float(offset))
    module, *arguments = sys.argv[1:]
    sys.argv = [module, *arguments]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
