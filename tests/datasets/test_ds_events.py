import re

import numpy as np
import pytest

from surnn_neuro.datasets.events import (EVENT_DTYPE, check_label, empty_events, event_stats,
                                         make_events, validate_events)
from surnn_neuro.errors import UserError


def test_dtype_fields_and_widths():
    assert EVENT_DTYPE.names == ("t", "x", "y", "p")
    assert [EVENT_DTYPE[n] for n in EVENT_DTYPE.names] == [np.dtype(np.int64), np.dtype(np.int16),
                                                          np.dtype(np.int16), np.dtype(np.int8)]
    assert empty_events().dtype == EVENT_DTYPE and empty_events().size == 0


def test_valid_events_pass_unchanged():
    ev = make_events([0, 0, 7], [0, 3, 3], [1, 1, 0], [0, 1, 1])
    assert validate_events(ev, (4, 2, 2), "f", 0) is ev
    assert event_stats(ev) == (3, 7)  # 3 events, last − first = 7 µs
    assert event_stats(empty_events()) == (0, 0)


@pytest.mark.parametrize("cols, sensor, message", [
    (([-1, 2], [0, 0], 0, 0), (4, 1, 1), "sample 5: negative timestamp -1 us at event 0"),
    (([0, 9, 8], [0, 0, 0], 0, 0), (4, 1, 1),
     "sample 5: timestamps decrease at event 2 (9 us, then 8 us)"),
    (([0, 1], [0, 4], 0, 0), (4, 1, 1),
     "sample 5: x (column/channel) = 4 at event 1 is outside the sensor (valid 0..3"),
    (([0], [0], -1, 0), (4, 2, 2), "sample 5: y (row) = -1 at event 0"),
    (([0], [0], 0, 1), (4, 1, 1),
     "sample 5: polarity = 1 at event 0 is outside the sensor (valid 0..0"),
])
def test_validation_errors_name_file_sample_problem(cols, sensor, message):
    with pytest.raises(UserError, match="^data/x.bin: " + re.escape(message)):
        validate_events(make_events(*cols), sensor, "data/x.bin", 5)


def test_check_label():
    assert check_label(np.int64(9), 10, "f", 0) == 9
    with pytest.raises(UserError, match="f: sample 2: label 10 out of range 0..9"):
        check_label(10, 10, "f", 2)
