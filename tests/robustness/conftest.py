"""The robustness suite's hypothesis profile: deterministic (derandomized, no example database), no
deadline (a scan of a small repository takes tens of milliseconds, more on a busy CI machine), and modest
example counts so the suite stays within CI's minutes on 2 cores.

Registered here and used only by the tests of this folder, through `robust(...)`: other suites keep
hypothesis' defaults. Run more examples locally with `ENVDOCTOR_ROBUST_EXAMPLES=10`, a multiplier.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = "envdoctor-robustness"

settings.register_profile(
    PROFILE,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture],
)
