import numpy as np
import pytest
from tonic.io import read_mnist_file

from ds_formats import NMNIST_SAMPLE, OVERFLOW, nmnist_record, write_nmnist
from surnn_neuro.datasets import nmnist
from surnn_neuro.errors import UserError


def rows(ev):
    return [tuple(int(v) for v in e) for e in ev[["t", "x", "y", "p"]].tolist()]


def test_decode_with_overflow_both_polarities_and_empty(tmp_path):
    write_nmnist(tmp_path)
    es = nmnist.open_split(tmp_path, "train")
    a, b = es.samples()
    # (1,2,ON,100), (3,4,OFF,8000), overflow marker (dropped; +2^13 = 8192 from here on),
    # (33,33,ON,50 + 8192 = 8242)
    assert a.label == 0 and rows(a.events) == [(100, 1, 2, 1), (8000, 3, 4, 0), (8242, 33, 33, 1)]
    assert b.label == 7 and b.events.size == 0
    (c,) = nmnist.open_split(tmp_path, "test").samples()
    assert c.label == 1 and rows(c.events) == [(0x7FFFFF, 0, 0, 0)]   # largest 23-bit timestamp
    assert c.name == "1/c.bin"


def test_matches_tonic_read_mnist_file(tmp_path):
    write_nmnist(tmp_path)
    ours = nmnist.read_bin(tmp_path / "Train/0/a.bin")
    theirs = read_mnist_file(str(tmp_path / "Train/0/a.bin"),
                             dtype=np.dtype([("x", int), ("y", int), ("t", int), ("p", int)]))
    for f in "txyp":
        np.testing.assert_array_equal(ours[f], theirs[f])
    # two markers add 2 × 8192 to everything after the second one
    raw = nmnist_record(1, 1, 1, 5) + OVERFLOW + OVERFLOW + nmnist_record(1, 1, 1, 5)
    ev = nmnist.decode_bin(raw, "x.bin", 0)
    assert ev["t"].tolist() == [5, 5 + 16384]


def test_nested_folder_and_limit(tmp_path):
    write_nmnist(tmp_path / "NMNIST")
    es = nmnist.open_split(tmp_path, "train")
    assert len(es) == 2 and [s.label for s in es.samples(1)] == [0]


@pytest.mark.parametrize("raw, match", [
    (NMNIST_SAMPLE + b"\x01\x02", r"sample 0: wrong record size: 22 bytes is not a multiple of 5"),
    (nmnist_record(34, 0, 0, 1),
     r"sample 0: x \(column/channel\) = 34 at event 0 is outside the sensor \(valid 0..33"),
    (nmnist_record(0, 1, 0, 1) + nmnist_record(0, 239, 0, 2), r"sample 0: y \(row\) = 239 at event 1"),
    (nmnist_record(0, 0, 0, 500) + nmnist_record(0, 0, 0, 400),
     r"sample 0: timestamps decrease at event 1 \(500 us, then 400 us\)"),
])
def test_malformed_bins(tmp_path, raw, match):
    p = tmp_path / "Train" / "3" / "bad.bin"
    p.parent.mkdir(parents=True)
    p.write_bytes(raw)
    with pytest.raises(UserError, match=r"Train/3/bad.bin: " + match):
        list(nmnist.open_split(tmp_path, "train").samples())


def test_label_folder_out_of_range(tmp_path):
    write_nmnist(tmp_path)
    (tmp_path / "Test" / "10").mkdir()
    with pytest.raises(UserError, match=r"Test/10: unexpected folder: labels are the folder names 0..9, "
                                        r"so label '10' is out of range"):
        nmnist.open_split(tmp_path, "test")


def test_missing_and_zipped(tmp_path):
    with pytest.raises(UserError, match=r"N-MNIST: no Train/ or Test/ folder in .*Train/<digit>/\*.bin.*"
                                        r"data.mendeley.com/datasets/468j46mzdv"):
        nmnist.open_split(tmp_path, "train")
    (tmp_path / "train.zip").write_bytes(b"")
    with pytest.raises(UserError, match=r"found the archive .*train.zip but not train: unpack it first"):
        nmnist.open_split(tmp_path, "train")
