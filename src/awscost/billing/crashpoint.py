"""TEST ONLY: the named step boundaries of a billing load, where a crash-consistency test kills it.

`tests/test_billing_crash.py` runs a real `awscost billing load` with AWSCOST_TEST_CRASH_AT=STEP, and the
load SIGKILLs itself when it reaches STEP (no cleanup runs, as under kill -9 or an out-of-memory kill); the
test then checks that the next load or open recovers with nothing lost. With the variable unset (always,
outside that test) `crash_point` costs one environment lookup and does nothing.

Steps, in order: `read-N` after the N-th billing file is read into staged parquet (engine.materialize);
`write-PERIOD` after a period's partition is written beside the dataset; `amortized`; `marker` after the new
marker is written; `swap` between the swap's two renames (no dataset at its path); `swapped` after the new
dataset is in place, before the old one is removed (dataset.py). A dataset in S3 (s3_dataset.py), after
`amortized`: `uploaded-N` after its N-th object is uploaded, `manifest` just before the manifest's
conditional PutObject, `swapped` after it, before the Athena symlink files are written and superseded
keys deleted.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "AWSCOST_TEST_CRASH_AT"


def crash_point(step: str) -> None:
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
