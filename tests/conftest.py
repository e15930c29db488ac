"""Shared pytest configuration.

Hypothesis profiles: ``ci`` (derandomised, bounded examples, no deadline) is used when ``CI`` is set
(CI sets ``CI=true``) or with ``HYPOTHESIS_PROFILE=ci``; ``dev`` (random examples) otherwise.
"""

import os

import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile(
    "ci", max_examples=30, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
