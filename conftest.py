"""Test-run configuration shared by tests/ and the doctests under surnn_neuro/.

Without Lava (any Python but 3.10, or 3.10 without the ``lava`` extra) the modules that import Lava
at module level cannot be imported, so their doctests are not collected; the Lava test files skip
themselves with the same one-line reason (:func:`~surnn_neuro.hw_targets.lava._mp.lava_missing_reason`),
shown in the header and in the skip summary.
"""

from surnn_neuro.hw_targets.lava._mp import lava_missing_reason

LAVA_MISSING = lava_missing_reason()

# modules importing lava at module level (their doctests need it)
collect_ignore_glob = [
    "surnn_neuro/hw_targets/lava/network.py",
    "surnn_neuro/hw_targets/lava/runner.py",
    "surnn_neuro/hw_targets/lava/processes/*.py",
] if LAVA_MISSING else []


def pytest_report_header(config):
    return f"lava: {'not available: ' + LAVA_MISSING if LAVA_MISSING else 'lava-nc available'}"


def pytest_collection_modifyitems(config, items):
    if not LAVA_MISSING:
        return
    import pytest

    skip = pytest.mark.skip(reason=LAVA_MISSING)
    for item in items:
        if item.get_closest_marker("lava") is not None:
            item.add_marker(skip)
