import math

import numpy as np
import pytest

from surnn_neuro.datasets import event_digits as ed
from surnn_neuro.datasets.events import EVENT_DTYPE, validate_events


@pytest.fixture(scope="module")
def images():
    return ed.load_images()


def test_fixed_stratified_split(images):
    _, labels = images
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    test = ed.split_indices(labels, "test")
    train = ed.split_indices(labels, "train")
    # every 5th of each class: n_c // 5 -> 35, 36, 35, 36, 36, 36, 36, 35, 34, 36 (sum 355)
    assert np.bincount(labels[test]).tolist() == [35, 36, 35, 36, 36, 36, 36, 35, 34, 36]
    assert len(train) == 1797 - 355 and not set(train) & set(test)
    assert test[labels[test] == 0][:2].tolist() == np.flatnonzero(labels == 0)[[4, 9]].tolist()


def test_deterministic_and_per_sample(images):
    im, _ = images
    a = ed.encode_digits(im[:12])
    b = ed.encode_digits(im[:12])
    c = ed.encode_digits(im[5:8])  # a sample's events depend on its own image only
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a[5:8], c):
        np.testing.assert_array_equal(x, y)


def test_sample_properties(images):
    im, _ = images
    evs = ed.encode_digits(im[:40])
    counts = np.array([len(e) for e in evs])
    assert 300 < counts.min() and counts.max() < 800          # documented: about 530 per sample
    for e in evs:
        assert e.dtype == EVENT_DTYPE
        validate_events(e, ed.SENSOR_SIZE, "event-digits", 0)  # ordered, on the 12×12×2 sensor
        assert e["t"].max() < 300_000
        # the path is closed, so each pixel ends where it started: per pixel #ON == #OFF
        pix = e["y"].astype(int) * 12 + e["x"]
        np.testing.assert_array_equal(np.bincount(pix[e["p"] == 1], minlength=144),
                                      np.bincount(pix[e["p"] == 0], minlength=144))


def test_blank_image_is_silent():
    (ev,) = ed.encode_digits(np.zeros((1, 8, 8)))
    assert ev.size == 0


def test_hand_derived_edge_pixel():
    # A white 8×8 square. Sensor column 9, row 4: image column j = 8 − dx, so during leg 1 (dx 0→1
    # over 0..100 ms) its intensity is dx; leg 2 keeps it at 1; leg 3 (dx 2→0 over 200..300 ms)
    # brings it back to 0 after 250 ms. L goes log 0.1 → log 1.1, a rise of log 11 = 2.398 = 5.99 C
    # with C = 0.4: 5 ON events in leg 1, then 5 OFF events after 250 ms. The first ON crossing
    # needs dx + 0.1 = 0.1 e^0.4, dx = 0.04918, i.e. t ≈ 4918 µs (within one 2 ms step's
    # linear-interpolation error).
    (ev,) = ed.encode_digits(np.full((1, 8, 8), 16.0))
    px = ev[(ev["x"] == 9) & (ev["y"] == 4)]
    assert px["p"].tolist() == [1] * 5 + [0] * 5
    assert abs(int(px["t"][0]) - 4918) < 50
    assert px["t"][4] <= 100_000 and px["t"][5] >= 250_000 and px["t"][9] <= 300_000


def test_encoding_validation():
    assert ed.DigitsEncoding().duration_us == 300_000
    with pytest.raises(ValueError, match="leaves the 10×10 sensor"):
        ed.DigitsEncoding(sensor=10)
    with pytest.raises(ValueError, match="threshold must be > 0"):
        ed.DigitsEncoding(threshold=0)
    with pytest.raises(ValueError, match="positive multiple of step_us"):
        ed.DigitsEncoding(step_us=3000)


def test_fewer_events_with_higher_threshold(images):
    im, _ = images
    lo = sum(len(e) for e in ed.encode_digits(im[:5], ed.DigitsEncoding(threshold=0.3)))
    hi = sum(len(e) for e in ed.encode_digits(im[:5], ed.DigitsEncoding(threshold=0.6)))
    assert hi < lo
    assert math.isclose(ed.DigitsEncoding(threshold=0.6).threshold, 0.6)
