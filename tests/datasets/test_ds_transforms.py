import numpy as np
import pytest
import tonic

from surnn_neuro.datasets.events import EVENT_DTYPE, make_events
from surnn_neuro.datasets.transforms import (BinningConfig, bin_events, denoise, input_layout,
                                             output_size)

SENSOR = (4, 2, 2)  # W=4, H=2, P=2 -> V = 16, v = p*8 + y*4 + x
# name:  e0  e1  e5  e2  e3  e4
EV = make_events(t=[0, 10, 12, 25, 39, 40],
                 x=[0, 3, 3, 3, 1, 2],
                 y=[0, 1, 1, 1, 0, 1],
                 p=[1, 0, 0, 0, 1, 1])


def frames(entries, T=4, V=16):
    out = np.zeros((T, V), np.float32)
    for (t, v), val in entries.items():
        out[t, v] = val
    return out


def test_count_fixed_window():
    # bins of 40/4 = 10 µs: bin = t*4//40 -> e0:0, e1:1, e5:1, e2:2, e3:3, e4 (t=40) dropped.
    # v: e0 = 8+0+0 = 8; e1, e5, e2 = 0+4+3 = 7; e3 = 8+0+1 = 9.
    got = bin_events(EV, SENSOR, BinningConfig(n_bins=4, duration_us=40))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, frames({(0, 8): 1, (1, 7): 2, (2, 7): 1, (3, 9): 1}))


def test_binary_and_delta():
    cfg = BinningConfig(n_bins=4, duration_us=40)
    np.testing.assert_array_equal(bin_events(EV, SENSOR, cfg.replace(encoding="binary")),
                                  frames({(0, 8): 1, (1, 7): 1, (2, 7): 1, (3, 9): 1}))
    # delta: D0 = C0; D1 = C1 − C0 (+2 at 7, −1 at 8); D2 = C2 − C1 (1 − 2 = −1 at 7);
    # D3 = C3 − C2 (+1 at 9, −1 at 7)
    np.testing.assert_array_equal(bin_events(EV, SENSOR, cfg.replace(encoding="delta")),
                                  frames({(0, 8): 1, (1, 7): 2, (1, 8): -1, (2, 7): -1,
                                          (3, 9): 1, (3, 7): -1}))


def test_stretch_to_sample_span():
    # duration None: span = 40 − 0 + 1 = 41, bin = t*4//41: 0, 0, 1, 2, 3, 3 (t=40 -> 160//41 = 3)
    # e4: v = 8 + 4 + 2 = 14
    got = bin_events(EV, SENSOR, BinningConfig(n_bins=4))
    np.testing.assert_array_equal(got, frames({(0, 8): 1, (0, 7): 1, (1, 7): 1, (2, 7): 1,
                                               (3, 9): 1, (3, 14): 1}))


def test_spatial_factor_and_polarity_merge():
    # factor 2: sensor 2×1×2, V = 4, v = p*2 + (y//2)*2 + x//2:
    # e0 -> 2, e1/e5/e2 -> 1, e3 -> 2+0 = 2 (x=1 -> 0)
    cfg = BinningConfig(n_bins=4, duration_us=40, spatial_factor=2)
    assert output_size(SENSOR, cfg) == 4
    np.testing.assert_array_equal(bin_events(EV, SENSOR, cfg),
                                  frames({(0, 2): 1, (1, 1): 2, (2, 1): 1, (3, 2): 1}, V=4))
    # merged polarity: V = 2, v = x//2: e0 -> 0, e1/e5/e2 -> 1, e3 -> 0
    cfg = cfg.replace(merge_polarity=True)
    np.testing.assert_array_equal(bin_events(EV, SENSOR, cfg),
                                  frames({(0, 0): 1, (1, 1): 2, (2, 1): 1, (3, 0): 1}, V=2))


def test_audio_channel_groups():
    ev = make_events([0, 1, 2, 3, 4, 5, 6], [0, 4, 5, 699, 233, 234, 467])
    # 140 groups of 5: c // 5 -> 0, 0, 1, 139
    got = bin_events(ev[:4], (700, 1, 1), BinningConfig(n_bins=1, channels=140))
    assert got.shape == (1, 140)
    assert got[0, 0] == 2 and got[0, 1] == 1 and got[0, 139] == 1 and got.sum() == 4
    # 3 groups: c*3//700 -> 233: 699//700 = 0; 234: 702//700 = 1; 467: 1401//700 = 2
    got = bin_events(ev[4:], (700, 1, 1), BinningConfig(n_bins=1, channels=3))
    np.testing.assert_array_equal(got, [[1, 1, 1]])


def test_empty_sample_gives_zeros():
    for cfg in (BinningConfig(n_bins=3), BinningConfig(n_bins=3, duration_us=9, encoding="delta")):
        got = bin_events(np.empty(0, EVENT_DTYPE), SENSOR, cfg)
        assert got.shape == (3, 16) and not got.any()


def test_layout_matches_tonic_toframe():
    cfg = BinningConfig(n_bins=4, duration_us=40)
    ours = bin_events(EV, SENSOR, cfg).reshape(4, 2, 2, 4)  # (T, P, H, W)
    theirs = tonic.transforms.ToFrame(sensor_size=SENSOR, time_window=10, start_time=0,
                                      end_time=40)(EV.copy())
    np.testing.assert_array_equal(ours, theirs)
    assert "reshape (T, 2, 2, 4)" in input_layout(SENSOR, cfg)


def test_denoise_hand_case():
    # B has neighbour A 500 µs earlier -> kept; A has no earlier neighbour -> dropped;
    # C's neighbour B is 3500 µs earlier -> dropped; D's neighbour C is 100 µs earlier -> kept;
    # E is only diagonal to D -> dropped.
    ev = make_events([5000, 5500, 9000, 9100, 9200], [1, 2, 3, 3, 4], [1, 1, 1, 2, 3])
    np.testing.assert_array_equal(denoise(ev, 1000)["t"], [5500, 9100])
    np.testing.assert_array_equal(tonic.transforms.Denoise(filter_time=1000)(ev.copy()), denoise(ev, 1000))


def test_denoise_agrees_with_tonic_on_random_streams():
    rng = np.random.default_rng(3)
    n = 400
    ev = make_events(np.sort(rng.integers(2000, 30000, n)), rng.integers(0, 6, n),
                     rng.integers(0, 5, n), rng.integers(0, 2, n))
    ours = denoise(ev, 2000)
    theirs = tonic.transforms.Denoise(filter_time=2000)(ev.copy())
    assert 0 < len(ours) < n
    np.testing.assert_array_equal(ours, theirs)
    cfg = BinningConfig(n_bins=5, denoise_us=2000)
    np.testing.assert_array_equal(bin_events(ev, (6, 5, 2), cfg),
                                  bin_events(theirs, (6, 5, 2), cfg.replace(denoise_us=0)))


def test_tonic_transforms_take_our_dtype():
    ev = EV.copy()
    down = tonic.transforms.Downsample(spatial_factor=0.5)(ev)
    assert down.dtype == EVENT_DTYPE and down["x"].tolist() == [0, 1, 1, 1, 0, 1]
    merged = tonic.transforms.MergePolarities()(ev)
    assert merged.dtype == EVENT_DTYPE and not merged["p"].any()
    audio = make_events([0, 5, 9], [0, 699, 3])
    fr = tonic.transforms.ToFrame(sensor_size=(700, 1, 1), n_time_bins=2)(audio)
    # tonic's windows are (9 − 0)//2 = 4 µs: [0, 4) and [4, 8); the event at t = 9 is lost.
    assert fr.shape == (2, 1, 1, 700) and fr.sum() == 2
    # ours stretches the span 0..9 (10 µs) over 2 bins: bin = t*2//10 -> 0, 1, 1; nothing lost
    ours = bin_events(audio, (700, 1, 1), BinningConfig(n_bins=2))
    assert ours[0, 0] == 1 and ours[1, 699] == 1 and ours[1, 3] == 1 and ours.sum() == 3


@pytest.mark.parametrize("kw, message", [
    ({"n_bins": 0}, "n_bins must be an integer >= 1"),
    ({"n_bins": 2.5}, "n_bins must be an integer"),
    ({"encoding": "spikes"}, "unknown encoding 'spikes'; known: count, binary, delta"),
    ({"duration_us": 0}, "duration_us must be None or an integer >= 1"),
    ({"channels": 0}, "channels must be None or an integer >= 1"),
    ({"spatial_factor": True}, "spatial_factor must be an integer >= 1"),
    ({"merge_polarity": 1}, "merge_polarity must be a bool"),
    ({"denoise_us": -1}, "denoise_us must be an integer >= 0"),
])
def test_config_validation(kw, message):
    with pytest.raises(ValueError, match=message):
        BinningConfig(**kw)


def test_config_does_not_fit_sensor():
    with pytest.raises(ValueError, match="channels applies to audio datasets"):
        output_size((128, 128, 2), BinningConfig(channels=10))
    with pytest.raises(ValueError, match="spatial_factor applies to camera datasets"):
        output_size((700, 1, 1), BinningConfig(spatial_factor=2))
    with pytest.raises(ValueError, match="exceeds the 700 channels"):
        output_size((700, 1, 1), BinningConfig(channels=701))


def test_config_is_frozen():
    with pytest.raises(Exception):  # noqa: B017 (frozen dataclasses raise FrozenInstanceError)
        BinningConfig().n_bins = 3
