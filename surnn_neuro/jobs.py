"""A job folder that appears complete or not at all, shown by the paths it will have, with its
wall-clock seconds kept apart (the main job, ``surnn-neuro run``).

:func:`staged_job` runs the body in a staging folder beside ``--out`` that starts from hard links
to what ``--out`` already holds (so later invocations can reuse earlier results) and replaces
``--out`` in one step when the body succeeds (:func:`surnn_neuro.fileio.staged_dir`). While it
runs, what the job prints, the results it records and the messages of its errors name the final
paths, not the staging folder's. :func:`split_timings` moves wall-clock seconds out of a result,
so that two runs with the same seed write identical summaries and differ only in timings.json.

>>> split_timings({"accuracy": 0.9, "seconds": 12.5, "lava": {"seconds": 3.0, "n": 16}})
({'accuracy': 0.9, 'lava': {'n': 16}}, {'seconds': 12.5, 'lava': {'seconds': 3.0}})
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Iterator

from surnn_neuro.errors import UserError
from surnn_neuro.fileio import staged_dir
from surnn_neuro.preflight import output_dir

#: keys holding wall-clock seconds: timings.json, not the summary
TIMING_KEYS = ("seconds", "train_seconds")


def split_timings(obj):
    """``(obj without timing keys, the timing keys in the same nesting or None)`` for nested dicts."""
    if not isinstance(obj, dict):
        return obj, None
    kept, timings = {}, {}
    for k, v in obj.items():
        if k in TIMING_KEYS:
            timings[k] = v
            continue
        kept[k], t = split_timings(v)
        if t:
            timings[k] = t
    return kept, timings or None


def replace_paths(obj, old: str, new: str):
    """``obj`` (nested dicts, lists, strings) with ``old`` replaced by ``new`` in every string."""
    if isinstance(obj, str):
        return obj.replace(old, new)
    if isinstance(obj, dict):
        return {k: replace_paths(v, old, new) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(replace_paths(v, old, new) for v in obj)
    return obj


class _ShownPaths(io.TextIOBase):
    """stdout while the job runs in its staging folder: paths are shown as they will be."""

    def __init__(self, stream, old: str, new: str):
        self.stream, self.old, self.new = stream, old, new

    def write(self, text):
        self.stream.write(text.replace(self.old, self.new))
        return len(text)

    def flush(self):
        self.stream.flush()

    def isatty(self):
        return self.stream.isatty()


def check_job_folder(out, marker: str, flag: str = "--out") -> Path:
    """``out`` checked as a job folder: new, empty, or written by the job before (it holds
    ``marker``); anything else is refused, since the job would carry it into its new folder."""
    out = output_dir(out, flag)
    if out.is_dir() and any(True for _ in os.scandir(out)) and not (out / marker).is_file():
        raise UserError(f"{flag} {out}: exists and is not a main-job folder (no {marker}); give a new "
                        f"or empty folder")
    return out


@contextlib.contextmanager
def staged_job(out: Path) -> Iterator[tuple]:
    """Yield ``(stage, shown)``: the staging folder to write into, and ``shown(result)`` that
    names the final paths in a result. ``out`` becomes the staging folder's content in one step
    once the block succeeds; on any error it is left as it was."""
    out = Path(out)
    with staged_dir(out, carry_over=True) as stage:
        old, new = str(stage), str(out)
        try:
            with contextlib.redirect_stdout(_ShownPaths(sys.stdout, old, new)):
                yield stage, lambda result: replace_paths(result, old, new)
        except UserError as e:  # name the files as the user knows them
            raise UserError(str(e).replace(old, new)) from None
