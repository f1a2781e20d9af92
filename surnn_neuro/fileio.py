"""Atomic writes: a reader never sees a half-written file, nor half of a command's set of files.

* One file (:func:`atomic_path`, :func:`write_text_atomic`, :func:`write_json_atomic`): write a
  temporary file in the same directory, flush and fsync, then ``os.replace`` (atomic on POSIX).
* A folder that a command owns, e.g. a training run or a Lava deployment (:func:`staged_dir`):
  every file is written into a staging folder beside the target, which is renamed into place once
  complete. An existing target is swapped with it in one step (``renameat2(RENAME_EXCHANGE)`` on
  Linux; elsewhere two renames) and then deleted, so the folder holds either the old set of files
  or the new one, never a new checkpoint beside old metrics.
* Several files in one go, e.g. ``convert --out G.h5 --nir F.nir`` (:func:`staged_files`): each is
  written into a staging folder beside its target and all are renamed at the end, after every
  writer has succeeded (the renames themselves take microseconds; a failure between two of them
  removes the ones already made).

Why staging rather than a manifest written last: a manifest needs every reader to check it, and a
killed writer would still have replaced the old checkpoint; a staged folder keeps the previous
complete run readable, by every tool, until the new one is complete.

On any exception the temporary files and folders are removed and the destination is left
untouched; the staging functions also remove again the folders they created on the way (missing
parents), so a failed command leaves no empty folders. Files and folders get the
mode the user's umask gives (``0666 & ~umask``, ``0777 & ~umask``), not the 0600 / 0700 of
``tempfile``. A staging folder is named ``.NAME.staging-PID-XXXXXX``; one left behind by a killed
process (its PID no longer running) is removed by the next command that stages the same target.

This module sits on the lowest floor and raises only OSError / ValueError; the command layer
checks paths first (:mod:`surnn_neuro.preflight`) and turns what still fails into one line.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Iterator

#: Longest part of a target's name kept in temporary names (they add about 20 characters).
_NAME_KEEP = 40
_umask_lock = threading.Lock()


def umask() -> int:
    """The process's umask, read without changing it where Linux allows (``/proc/self/status``)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    with _umask_lock:  # elsewhere: set and restore (the only portable way to read it)
        old = os.umask(0o022)
        os.umask(old)
    return old


def file_mode() -> int:
    """Mode of a new file, as ``open()`` would create it: ``0o666 & ~umask``."""
    return 0o666 & ~umask()


def dir_mode() -> int:
    """Mode of a new folder, as ``mkdir`` would create it: ``0o777 & ~umask``."""
    return 0o777 & ~umask()


def _short(name: str) -> str:
    return name[:_NAME_KEEP]


def make_parents(path: Path) -> list[Path]:
    """Create the missing parent folders of ``path``; returns the ones created (outermost first)."""
    missing = []
    p = path.parent
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    created = []
    try:
        for d in reversed(missing):
            try:
                d.mkdir()
            except FileExistsError:
                continue
            created.append(d)
    except BaseException:
        remove_created(created)
        raise
    return created


def remove_created(created: list[Path]) -> None:
    """Remove folders listed by :func:`make_parents` again (innermost first), if they are empty."""
    for d in reversed(created):
        with contextlib.suppress(OSError):
            d.rmdir()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "", keep_name: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    ``keep_name``: the temporary file has ``path``'s own name, in a temporary folder beside it,
    for writers that store their file's name inside it (``torch.save`` names its zip records after
    the file, which would make every checkpoint's bytes differ).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "a.txt").read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = None
    if keep_name:
        holder = Path(tempfile.mkdtemp(prefix=f".{_short(path.name)}.", dir=path.parent))
        tmp_path = holder / path.name
    else:
        fd, tmp = tempfile.mkstemp(prefix=f".{_short(path.name)}.", suffix=suffix or ".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp_path, file_mode())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise
    finally:
        if holder is not None:
            shutil.rmtree(holder, ignore_errors=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | os.PathLike, obj) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically. NaN and infinity are refused
    (ValueError): they are not JSON, and other tools would fail to read the file."""
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n")


# -- staging folders ----------------------------------------------------------------------------------

def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    return True


def remove_stale_staging(target: Path) -> None:
    """Remove staging folders of ``target`` left behind by processes that no longer run."""
    pattern = re.compile(rf"^\.{re.escape(_short(target.name))}\.staging-(\d+)-\w+$")
    parent = target.parent
    if not parent.is_dir():
        return
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            m = pattern.match(entry.name)
            if m and entry.is_dir(follow_symlinks=False) and not _pid_running(int(m.group(1))):
                shutil.rmtree(entry.path, ignore_errors=True)


def _staging_dir(target: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix=f".{_short(target.name)}.staging-{os.getpid()}-", dir=target.parent))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this file system cannot exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def _link_or_copy(src, dst):
    """Hard link (same bytes, no copy; safe because every write here replaces files, never edits
    them in place), or a copy where links are not allowed."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _commit_dir(stage: Path, target: Path) -> None:
    os.chmod(stage, dir_mode())
    if not os.path.lexists(target):
        os.rename(stage, target)
        return
    if exchange(stage, target):  # stage now holds the old folder
        shutil.rmtree(stage, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{_short(target.name)}.staging-{os.getpid()}-old", dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(stage, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_dir(target: str | os.PathLike, carry_over: bool = False) -> Iterator[Path]:
    """Yield a staging folder beside ``target``; on success it becomes ``target`` in one step.

    ``carry_over``: start from the current content of ``target`` (hard links), for commands that
    extend a folder (the main job reuses earlier stages' files); otherwise the new folder holds
    only what was written. The caller decides whether ``target`` may be replaced
    (:func:`surnn_neuro.preflight.check_output_dir`); here an existing non-folder is refused.
    """
    target = Path(target)
    if target.is_symlink():  # replace the folder the link points to, keep the link
        target = Path(os.path.realpath(target))
    if os.path.lexists(target) and not target.is_dir():
        raise NotADirectoryError(20, "exists and is not a folder", str(target))
    created = make_parents(target)
    stage = None
    try:
        remove_stale_staging(target)
        stage = _staging_dir(target)
        if carry_over and target.is_dir():
            shutil.copytree(target, stage, symlinks=True, copy_function=_link_or_copy, dirs_exist_ok=True)
        yield stage
        _commit_dir(stage, target)
    except BaseException:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        remove_created(created)
        raise


@contextlib.contextmanager
def staged_files(targets: Iterable[str | os.PathLike]) -> Iterator[list[Path]]:
    """Yield one staging path per target (same file name, in a staging folder beside it); once the
    block succeeds every staged file replaces its target, otherwise none does."""
    targets = [Path(t) for t in targets]
    if len({os.path.abspath(t) for t in targets}) != len(targets):
        raise ValueError("staged_files: the same target twice")
    created: list[Path] = []
    stages: dict[Path, Path] = {}
    done: list[Path] = []
    try:
        for t in targets:
            created += make_parents(t)
            if t.parent not in stages:
                remove_stale_staging(t)
                stages[t.parent] = _staging_dir(t)
        paths = [stages[t.parent] / t.name for t in targets]
        yield paths
        for p in paths:
            if not p.is_file():
                raise FileNotFoundError(2, "the writer produced no file", str(p))
            os.chmod(p, file_mode())
        for p, t in zip(paths, targets):
            os.replace(p, t)
            done.append(t)
    except BaseException:
        for t in done:  # a rename failed half-way: take back the ones already made
            with contextlib.suppress(OSError):
                t.unlink()
        raise
    finally:
        for s in stages.values():
            shutil.rmtree(s, ignore_errors=True)
        if len(done) < len(targets):
            remove_created(created)
