import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # ds_formats, the file writers


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """No test reads $SURNN_NEURO_DATA or writes to the user's cache."""
    monkeypatch.delenv("SURNN_NEURO_DATA", raising=False)
    monkeypatch.setenv("SURNN_NEURO_CACHE", str(tmp_path / "cache"))
