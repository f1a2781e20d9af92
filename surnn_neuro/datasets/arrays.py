"""One's own data: task ``arrays`` reads inputs and integer labels from one .npz or HDF5 file.

``surnn-neuro train --task arrays --data FILE`` (and ``simulate GRAPH --task arrays --data FILE``,
``data check FILE``). The file holds, as top-level keys (``np.savez`` names, or HDF5 datasets):

=============================  ==============================================================
key                            content
=============================  ==============================================================
``x_train``, ``x_test``        inputs (N, T, V): N sequences of T steps of V inputs; any
                               numeric dtype, stored as float32 (finite after the cast)
``y_train``, ``y_test``        labels (N,), an integer dtype, classes 0..K−1
``x``, ``y`` (instead)         one pool, split without a seed: within each class, in file
                               order, every 5th sample (class ranks 4, 9, 14, …) is test,
                               the rest train (the event-digits rule)
``n_classes`` (optional)       K, a scalar integer (default: largest label + 1)
``readout`` (optional)         "last" (default) or "mean": which model output is scored
=============================  ==============================================================

Each problem is one UserError naming the file: unreadable file, a missing key (the keys found are
listed), both layouts at once, wrong ranks or dtypes, NaN or infinite inputs (with the first
sample, step and input), labels out of range, empty splits, train and test of different (T, V).
Inputs of T steps are one fixed-length task (``--seq-len`` is refused). The file path travels as
the task's ``data_dir`` (``TrainConfig.data_dir``), so a checkpoint records it and ``evaluate
RUN_DIR`` re-reads the same file; the CLI stores it as an absolute path.

:func:`save_arrays` writes such a file from a :class:`TaskData` (atomically), e.g. to train on a
tonic dataset from the command line (docs/datasets.md has the worked example).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from surnn_neuro.datasets.base import class_ranks
from surnn_neuro.datasets.task import TaskData, TaskSpec
from surnn_neuro.errors import UserError
from surnn_neuro.fileio import atomic_path

SUFFIXES = (".npz", ".h5", ".hdf5")
SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")
POOLED_KEYS = ("x", "y")
OPTIONAL_KEYS = ("n_classes", "readout")
TEST_EVERY = 5
READOUTS = ("last", "mean")
HINT = ("x_train, y_train, x_test, y_test (inputs (N, T, V), integer labels (N,)), or x, y "
        "(test = every 5th sample of each class)")


def _read(path: Path) -> dict:
    """Every top-level array of the file, by key; UserError if it cannot be read."""
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if not path.is_file():
        raise UserError(f"{path}: not a file (task arrays reads one .npz or HDF5 file)")
    if path.suffix.lower() not in SUFFIXES:
        raise UserError(f"{path}: unknown file type {path.suffix or '(none)'!r}; expected "
                        f"{', '.join(SUFFIXES)} holding {HINT}")
    if path.suffix.lower() == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError) as e:
            raise UserError(f"{path}: cannot read as .npz ({' '.join(str(e).split())[:160]})") from None
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return {k: f[k][()] for k in f.keys() if isinstance(f[k], h5py.Dataset)}
    except (OSError, KeyError, TypeError, ValueError) as e:
        raise UserError(f"{path}: cannot read as HDF5 ({' '.join(str(e).split())[:160]})") from None


def is_arrays_file(path) -> bool:
    """True if ``path`` is an .npz, or an HDF5 file with ``x_train`` or ``x`` at the top level."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return True
    if path.suffix.lower() not in SUFFIXES:
        return False
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return "x_train" in f or ("x" in f and "y" in f)
    except OSError:
        return False


def _inputs(path: Path, key: str, x: np.ndarray) -> np.ndarray:
    if x.ndim != 3:
        raise UserError(f"{path}: {key} must be (N, T, V) inputs, got shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise UserError(f"{path}: {key} must be numeric, got dtype {x.dtype}")
    if x.shape[0] == 0:
        raise UserError(f"{path}: {key} holds no samples (shape {x.shape})")
    if x.shape[1] == 0 or x.shape[2] == 0:
        raise UserError(f"{path}: {key} has T = {x.shape[1]} steps and V = {x.shape[2]} inputs; "
                        f"both must be >= 1")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, by position
        x = np.ascontiguousarray(x, dtype=np.float32)
    bad = ~np.isfinite(x)
    if bad.any():
        n, t, v = (int(i) for i in np.argwhere(bad)[0])
        raise UserError(f"{path}: {key} holds {int(bad.sum())} NaN or infinite value(s) (or values "
                        f"beyond float32), the first at sample {n}, step {t}, input {v}")
    return x


def _labels(path: Path, key: str, y: np.ndarray, n: int, n_classes: int | None) -> np.ndarray:
    if y.ndim != 1:
        raise UserError(f"{path}: {key} must be (N,) labels, got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise UserError(f"{path}: {key} must hold integer class labels, got dtype {y.dtype} "
                        f"(cast with y.astype(np.int64))")
    if len(y) != n:
        raise UserError(f"{path}: {key} has {len(y)} labels but the inputs have {n} samples")
    hi = n_classes - 1 if n_classes is not None else None
    bad = np.flatnonzero((y < 0) | (y > hi if hi is not None else False))
    if bad.size:
        i = int(bad[0])
        rng = f"0..{hi}" if hi is not None else ">= 0"
        raise UserError(f"{path}: {key}: label {int(y[i])} at sample {i} out of range {rng}")
    return y.astype(np.int64)


def _scalar(path: Path, key: str, value: np.ndarray):
    value = np.asarray(value)
    if value.ndim != 0:
        raise UserError(f"{path}: {key} must be a scalar, got shape {value.shape}")
    return value.item()


def load_arrays(path, name: str = "arrays") -> TaskData:
    """The file's data as a numpy :class:`TaskData` (classification, metric accuracy); the layout
    and the checks are in the module docstring."""
    path = Path(path).expanduser()
    data = _read(path)
    found = ", ".join(sorted(data)) or "none"
    has_split = any(k in data for k in SPLIT_KEYS)
    has_pool = any(k in data for k in POOLED_KEYS)
    if has_split and has_pool:
        raise UserError(f"{path}: holds both x/y and x_train/y_train/x_test/y_test; keep one layout")
    keys = SPLIT_KEYS if has_split or not has_pool else POOLED_KEYS
    missing = [k for k in keys if k not in data]
    if missing:
        raise UserError(f"{path}: missing key {', '.join(missing)} (keys found: {found}); "
                        f"expected {HINT}")
    n_classes = None
    if "n_classes" in data:
        n_classes = _scalar(path, "n_classes", data["n_classes"])
        if not isinstance(n_classes, int) or isinstance(n_classes, bool) or n_classes < 1:
            raise UserError(f"{path}: n_classes must be an integer >= 1, got {n_classes!r}")
    readout = "last"
    if "readout" in data:
        readout = _scalar(path, "readout", data["readout"])
        readout = readout.decode() if isinstance(readout, bytes) else str(readout)
        if readout not in READOUTS:
            raise UserError(f"{path}: readout {readout!r} unknown; known: {', '.join(READOUTS)}")
    if has_split:
        x_train = _inputs(path, "x_train", data["x_train"])
        x_test = _inputs(path, "x_test", data["x_test"])
        y_train = _labels(path, "y_train", data["y_train"], len(x_train), n_classes)
        y_test = _labels(path, "y_test", data["y_test"], len(x_test), n_classes)
        if x_train.shape[1:] != x_test.shape[1:]:
            raise UserError(f"{path}: x_train is (T, V) = {x_train.shape[1:]} but x_test is "
                            f"{x_test.shape[1:]}; both splits need the same steps and inputs")
        layout = "x_train/y_train/x_test/y_test"
    else:
        x = _inputs(path, "x", data["x"])
        y = _labels(path, "y", data["y"], len(x), n_classes)
        test = class_ranks(y) % TEST_EVERY == TEST_EVERY - 1
        if not test.any() or test.all():
            raise UserError(f"{path}: {len(y)} samples leave the every-{TEST_EVERY}th test split "
                            f"empty (each class needs >= {TEST_EVERY} samples); give x_train, "
                            f"y_train, x_test, y_test instead")
        x_train, y_train, x_test, y_test = x[~test], y[~test], x[test], y[test]
        layout = f"x/y, test = every {TEST_EVERY}th sample of each class"
    K = n_classes or int(max(y_train.max(), y_test.max())) + 1
    info = {"file": str(path.resolve()), "layout": layout, "seq_len": int(x_train.shape[1]),
            "n_inputs": int(x_train.shape[2]), "chance": 1.0 / K,
            "source_dtype": str(data["x_train" if has_split else "x"].dtype)}
    return TaskData(name, "classification", x_train, y_train, x_test, y_test, K, readout,
                    "accuracy", info)


def save_arrays(path, task: TaskData) -> Path:
    """Write ``task``'s train/test pair (with ``n_classes`` and ``readout``) as an .npz
    (compressed) or HDF5 file that :func:`load_arrays` reads back unchanged; atomic."""
    path = Path(path).expanduser()
    if path.suffix.lower() not in SUFFIXES:
        raise UserError(f"{path}: unknown file type {path.suffix or '(none)'!r}; expected "
                        f"{', '.join(SUFFIXES)}")
    if task.kind != "classification" or task.readout not in READOUTS:
        raise ValueError(f"save_arrays writes classification tasks with readout last or mean, got "
                         f"{task.kind} / {task.readout}")
    arrays = {k: np.asarray(getattr(task, k)) for k in SPLIT_KEYS}
    arrays["n_classes"] = np.int64(task.output_size)
    arrays["readout"] = np.array(task.readout)
    with atomic_path(path, suffix=path.suffix) as tmp:
        if path.suffix.lower() == ".npz":
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)
        else:
            import h5py

            with h5py.File(tmp, "w") as f:
                for k, v in arrays.items():
                    if k == "readout":
                        f.create_dataset(k, data=task.readout, dtype=h5py.string_dtype())
                    elif v.ndim:
                        f.create_dataset(k, data=v, compression="lzf")
                    else:
                        f.create_dataset(k, data=v)
    return path


def describe(path) -> str:
    """The ``data check FILE`` summary of an arrays file (reads and validates all of it)."""
    task = load_arrays(path)
    lines = [f"arrays file {task.info['file']}: T = {task.seq_len} steps, V = {task.input_size} "
             f"inputs, {task.output_size} classes, readout {task.readout}, layout "
             f"{task.info['layout']}, stored {task.info['source_dtype']}"]
    for split in ("train", "test"):
        x, y = getattr(task, f"x_{split}"), getattr(task, f"y_{split}")
        counts = np.bincount(y, minlength=task.output_size)
        lines.append(f"  {split:<14} {len(y):>7} samples  {int((counts > 0).sum())}/"
                     f"{task.output_size} classes (min {int(counts.min())}, max "
                     f"{int(counts.max())} per class)  x min {float(x.min()):.4g}, max "
                     f"{float(x.max()):.4g}, mean {float(x.mean()):.4g}, zeros "
                     f"{100.0 * float((x == 0).mean()):.2f} %")
    return "\n".join(lines)


def _load(data_dir=None, **_) -> TaskData:
    if data_dir is None:
        raise UserError(f"task arrays needs --data FILE: an .npz or HDF5 file with {HINT}")
    return load_arrays(data_dir)


TASKS = (TaskSpec(name="arrays", load=_load, fixed_length=True,
                  description="your own inputs (N, T, V) and labels from --data FILE (.npz or HDF5)"),)
