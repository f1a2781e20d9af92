import numpy as np
import pytest
from tonic.io import get_aer_events_from_file, read_aedat_header_from_file

from ds_formats import (BLOCK_A, BLOCK_C, LABELS_CSV, aedat_block, aedat_header,
                        polarity_word, write_aedat_trial, write_gesture_npy, write_gesture_release)
from surnn_neuro.datasets import dvs_gesture
from surnn_neuro.errors import UserError


def rows(ev):
    return [tuple(int(v) for v in e) for e in ev[["t", "x", "y", "p"]].tolist()]


def test_read_aedat_blocks_overflow_validity(tmp_path):
    write_gesture_release(tmp_path)
    ev = dvs_gesture.read_aedat(tmp_path / "user01_fluorescent.aedat")
    # block A: the invalid event (valid bit 0) is dropped; block B (type 0) skipped;
    # block C: t = timestamp | 1 << 31 = 2147483648 + 100 and + 600
    assert rows(ev) == [(1000, 10, 20, 1), (2000, 0, 127, 0), (2147483000, 5, 6, 1),
                        (2147483748, 64, 65, 1), (2147484248, 1, 2, 0)]


def test_gestures_cut_by_label_csv(tmp_path):
    write_gesture_release(tmp_path)
    es = dvs_gesture.open_split(tmp_path, "train")
    assert len(es) == 2 and es.meta["layout"] == "aedat" and es.meta["users"] == ["user01"] * 2
    s0, s1 = list(es.samples())
    # class 3 over [900, 2500): events at 1000 and 2000, relative to 900 -> 100 and 1100
    assert s0.label == 2 and rows(s0.events) == [(100, 10, 20, 1), (1100, 0, 127, 0)]
    # class 11 over [2147483000, 2147484000): 2147483000 -> 0, 2147483748 -> 748 (2147484248 is out)
    assert s1.label == 10 and rows(s1.events) == [(0, 5, 6, 1), (748, 64, 65, 1)]
    assert s1.name == "user01_fluorescent.aedat#1"
    (t,) = dvs_gesture.open_split(tmp_path, "test").samples()
    # class 5 over [40, 100): 50 -> 10, 70 -> 30
    assert t.label == 4 and rows(t.events) == [(10, 3, 4, 1), (30, 3, 5, 0)]
    assert [s.label for s in es.samples(1)] == [2]


def test_block_walk_agrees_with_tonic_manual_path(tmp_path):
    # tonic 1.7.0: read_dvs_ibm is broken, but header + get_aer_events_from_file decode (facts §5.4)
    path = write_aedat_trial(tmp_path, "user03_led", [aedat_block(BLOCK_A[:1] + BLOCK_A[2:]),
                                                      aedat_block(BLOCK_C)], LABELS_CSV)
    version, start, _ = read_aedat_header_from_file(str(path))
    raw = get_aer_events_from_file(str(path), version, start)
    ours = dvs_gesture.read_aedat(path)
    addr = raw["address"].astype(np.int64)
    assert version == 3.1
    np.testing.assert_array_equal(ours["x"], (addr >> 17) & 0x1FFF)
    np.testing.assert_array_equal(ours["y"], (addr >> 2) & 0x1FFF)
    np.testing.assert_array_equal(ours["p"], (addr >> 1) & 1)
    np.testing.assert_array_equal(ours["t"][:3], raw["timeStamp"][:3])  # tonic ignores the overflow


def test_overlapping_rows_are_clipped(tmp_path):
    # the known user22_led error: an end after the next start; end 3000 is clipped to 2500
    csv = "class,startTime_usec,endTime_usec\n1,0,3000\n2,2500,4000\n"
    write_aedat_trial(tmp_path, "user22_led", [aedat_block([(polarity_word(1, 1, 1), 2600)])], csv)
    rows_ = dvs_gesture.read_labels_csv(tmp_path / "user22_led_labels.csv")
    assert rows_ == [(0, 0, 2500), (1, 2500, 4000)]


def test_npy_layout(tmp_path):
    write_gesture_npy(tmp_path / "DVSGesture")
    es = dvs_gesture.open_split(tmp_path, "train")   # found in the DVSGesture sub-folder
    assert es.meta["layout"] == "npy" and len(es) == 2
    a, b = es.samples()
    # ms -> µs: 5.0, 6.5, 8.0 ms -> 5000, 6500, 8000, relative to the first event: 0, 1500, 3000
    assert a.label == 0 and rows(a.events) == [(0, 1, 2, 1), (1500, 3, 4, 0), (3000, 127, 127, 1)]
    assert b.label == 3 and rows(b.events) == [(0, 0, 0, 0)]
    (c,) = dvs_gesture.open_split(tmp_path, "test").samples()
    assert c.label == 10 and rows(c.events) == [(0, 9, 9, 1), (0, 9, 9, 1)]
    assert c.name == "user02_natural/10.npy"


def test_release_preferred_over_npy(tmp_path):
    write_gesture_release(tmp_path)
    write_gesture_npy(tmp_path)
    assert dvs_gesture.open_split(tmp_path, "train").meta["layout"] == "aedat"


# ------------------------------------------------------------------------------------ malformed

def aedat_error(tmp_path, content, match):
    path = tmp_path / "user09_led.aedat"
    path.write_bytes(content)
    with pytest.raises(UserError, match=match):
        dvs_gesture.read_aedat(path)


@pytest.mark.parametrize("content, match", [
    (b"hello world", r"user09_led.aedat: corrupt AEDAT header: the file does not start with '#!AER-DAT'"),
    (aedat_header("2.0"), r"unsupported AEDAT version '2.0': DVS128 Gesture files are AEDAT 3.1"),
    (b"#!AER-DAT3.1\r\n#Format: RAW\r\n\x01\x00\x08", r"corrupt AEDAT header: no '#!END-HEADER' line"),
    (aedat_header() + b"\x01" * 10, r"truncated AEDAT block header at byte 86 \(block 0\): 10 of 28 bytes"),
    (aedat_header() + aedat_block(BLOCK_A)[:-8],
     r"corrupt AEDAT block header at byte 86 \(block 0\): the block announces 32 bytes of events "
     r"but only 24 remain"),
    (aedat_header() + aedat_block(BLOCK_A, number=5),
     r"corrupt AEDAT block header at byte 86 \(block 0\): eventSize 8, eventCapacity 4, eventNumber 5"),
    (aedat_header() + aedat_block(BLOCK_A[:2], size=12),
     r"polarity events need eventSize 8 and eventTSOffset 4, got 12 and 4"),
    (aedat_header() + aedat_block(BLOCK_A) + aedat_block(BLOCK_C, size=0),
     r"corrupt AEDAT block header at byte 146 \(block 1\): eventSize 0"),
])
def test_corrupt_aedat(tmp_path, content, match):
    aedat_error(tmp_path, content, match)


def test_header_length_used_in_messages():
    assert len(aedat_header()) == 86  # the byte offsets in test_corrupt_aedat


@pytest.mark.parametrize("events, match", [
    ([(polarity_word(200, 1, 1), 1000)],
     r"sample 0 \(class 3, 900..2500 us\): x \(column/channel\) = 200"),
    ([(polarity_word(1, 1, 1), 2000), (polarity_word(1, 2, 1), 1000)],
     r"sample 0 \(class 3, 900..2500 us\): timestamps decrease at event 1 \(1100 us, then 100 us\)"),
])
def test_bad_events_in_a_gesture(tmp_path, events, match):
    write_aedat_trial(tmp_path, "user01_led", [aedat_block(events)], LABELS_CSV)
    (tmp_path / "trials_to_train.txt").write_text("user01_led.aedat\n")
    with pytest.raises(UserError, match=r"user01_led.aedat: " + match):
        list(dvs_gesture.open_split(tmp_path, "train").samples())


@pytest.mark.parametrize("csv, match", [
    ("cls,start,end\n1,0,10\n", r"expected the header class,startTime_usec,endTime_usec, got cls,start,end"),
    ("class,startTime_usec,endTime_usec\n12,0,10\n",
     r"line 2 \(sample 0\): label \(class\) 12 out of range 1..11"),
    ("class,startTime_usec,endTime_usec\n1,0,10\n0,20,30\n",
     r"line 3 \(sample 1\): label \(class\) 0 out of range"),
    ("class,startTime_usec,endTime_usec\n1,50,50\n", r"line 2 \(sample 0\): bad interval 50..50 us"),
    ("class,startTime_usec,endTime_usec\n1,abc,50\n", r"line 2: expected three integers"),
])
def test_bad_label_files(tmp_path, csv, match):
    write_aedat_trial(tmp_path, "user01_led", [aedat_block(BLOCK_A)], csv)
    (tmp_path / "trials_to_train.txt").write_text("user01_led.aedat\n")
    with pytest.raises(UserError, match=r"user01_led_labels.csv: " + match):
        dvs_gesture.open_split(tmp_path, "train")


def test_listed_trial_missing(tmp_path):
    write_gesture_release(tmp_path)
    (tmp_path / "trials_to_test.txt").write_text("user05_led.aedat\n")
    with pytest.raises(UserError, match=r"user05_led.aedat \(listed in trials_to_test.txt\) not found"):
        dvs_gesture.open_split(tmp_path, "test")


def test_nothing_there_names_both_layouts(tmp_path):
    with pytest.raises(UserError, match=r"DVS128 Gesture: no data found in .*trials_to_train.txt.*"
                                        r"research.ibm.com/interactive/dvsgesture.*"
                                        r"ibmGestureTrain/.*38022171"):
        dvs_gesture.open_split(tmp_path, "train")
    (tmp_path / "DvsGesture.tar.gz").write_bytes(b"")
    with pytest.raises(UserError, match=r"found the archive .*DvsGesture.tar.gz.*tar xzf DvsGesture.tar.gz"):
        dvs_gesture.open_split(tmp_path, "train")


@pytest.mark.parametrize("name, array, match", [
    ("11.npy", [[0, 0, 0, 0.0]], r"11.npy: label 11 out of range 0..10"),
    ("x.npy", [[0, 0, 0, 0.0]], r"x.npy: the file name must be the label"),
    ("2.npy", [[0, 0, 0]], r"2.npy: sample 0: expected an N×4 numeric array"),
    ("2.npy", [[128, 0, 0, 1.0]], r"2.npy: sample 0: x \(column/channel\) = 128"),
    ("2.npy", [[1, 0, 0, 2.0], [1, 0, 0, 1.0]], r"2.npy: sample 0: timestamps decrease"),
    ("2.npy", [[1, 0, 0, -2.0]], r"2.npy: sample 0: negative timestamp -2000 us"),
])
def test_bad_npy_samples(tmp_path, name, array, match):
    d = tmp_path / "ibmGestureTrain" / "user01_led"
    d.mkdir(parents=True)
    np.save(d / name, np.asarray(array, dtype=np.float64))
    with pytest.raises(UserError, match=match):
        list(dvs_gesture.open_split(tmp_path, "train").samples())


def test_truncated_npy(tmp_path):
    d = tmp_path / "ibmGestureTest" / "user01_led"
    d.mkdir(parents=True)
    np.save(d / "1.npy", np.zeros((100, 4)))
    raw = (d / "1.npy").read_bytes()
    (d / "1.npy").write_bytes(raw[:300])
    with pytest.raises(UserError, match=r"1.npy: cannot read as .npy"):
        list(dvs_gesture.open_split(tmp_path, "test").samples())
