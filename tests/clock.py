"""Moving the clock of the test processes, to prove that no test depends on the day it runs.

`MEND_TEST_CLOCK` (`make test-shifted CLOCK=…`) is either an offset in days (`+365d`) or an instant
(`2028-03-26T00:58:00Z`). tests/conftest.py moves the test process there (time-machine; the clock
ticks on from it), and the processes the tests start (`mend serve`, `mend worker`) run through
`python -m tests.run_shifted`, which moves theirs by the same offset, passed in TESTS_CLOCK_OFFSET
(a name the tests' MEND_-free environments keep). The browser's own clock and PostgreSQL's are left
alone: Mend reads neither.
"""

import os
import time
from datetime import UTC, datetime

import time_machine

REQUEST_ENV = "MEND_TEST_CLOCK"
OFFSET_ENV = "TESTS_CLOCK_OFFSET"


def requested_offset() -> float | None:
    """Seconds to move the clock by, from MEND_TEST_CLOCK; None when it is not set."""
    spec = os.environ.get(REQUEST_ENV, "").strip()
    if not spec:
        return None
    if spec[0] in "+-" and spec.endswith("d"):
        return float(spec[:-1]) * 86_400
    target = datetime.fromisoformat(spec.replace("Z", "+00:00"))
    return (target - datetime.now(UTC)).total_seconds()


def shift(offset: float) -> None:
    """Move this process's clock by `offset` seconds for the rest of its life."""
    time_machine.travel(time.time() + offset, tick=True).start()
