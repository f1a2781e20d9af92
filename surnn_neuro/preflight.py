"""Check first: the command-line options, the files read and written, and what the machine can hold.

Every subcommand validates all of its options and paths here before any work starts, so a bad
value costs one line (:class:`~surnn_neuro.errors.UserError`, exit status 2) and never a traceback
half-way through a run.

* :data:`OPTIONS`: the one table of command-line options with their types and bounds
  (:class:`~surnn_neuro.options.Option`, the same kind as the model options of
  :mod:`surnn_neuro.models.options`). The parser of every subcommand takes its ``type=`` from it
  (:func:`argtype`), :class:`~surnn_neuro.training.loop.TrainConfig` and the main job's options
  check Python values against it (:func:`check_value`).
* Paths: :func:`input_file`, :func:`input_dir`, :func:`input_path` (exists, right kind, readable)
  and :func:`output_file`, :func:`output_dir` (a writable folder above it, no file where a folder
  belongs, no folder where a file belongs, names the file system accepts, a folder only replaced if
  it holds nothing but the command's own files).
* Resources: :func:`cpu_count` (the bound of ``--threads``: torch crashes with a segmentation
  fault when asked for 100000 threads), :func:`available_memory` and :func:`check_fits`, which
  refuses a size that cannot be allocated (``--hidden 60000``, ``--seq-len 10000000``) before the
  allocation: on Linux an oversized allocation often succeeds and the out-of-memory killer ends
  the process later without a word.

Why these bounds: each upper bound lies far above any run that makes sense for these models on
one machine (a 64-layer stack, H = 65536, 10⁵ epochs) and well below the values that overflow or
allocate without end; the memory check catches what the fixed bounds let through.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from surnn_neuro.errors import UserError
from surnn_neuro.options import Option


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask, which containers and ``taskset`` set)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


_CPUS = cpu_count()

#: flag -> type and bounds of every numeric or fixed-choice command-line option (paths: below;
#: names from other tables -- tasks, models, backends, profiles -- are checked against those tables)
OPTIONS: dict[str, Option] = {o.name: o for o in (
    Option("--hidden", "int", "hidden size H per layer", low=1, high=65536),
    Option("--layers", "int", "stacked layers", low=1, high=64),
    Option("--epochs", "int", "training epochs", low=1, high=100_000),
    Option("--batch-size", "int", "samples per training step", low=1, high=1 << 20),
    Option("--lr", "float", "Adam learning rate", low=0, high=10, open_low=True),
    Option("--budget", "float", "update-budget weight λ of λ·Σ_t u_t", low=0, high=1000),
    Option("--seq-len", "int", "sequence length of synthetic tasks, time bins of event data", low=1,
           high=1_000_000),
    Option("--seed", "int", "random seed", low=0, high=2 ** 32 - 1, note="numpy seeds are 32-bit"),
    Option("--threads", "int", "CPU threads for torch", low=1, high=_CPUS,
           note=f"this process may use {_CPUS} CPU{'s' if _CPUS > 1 else ''}"),
    Option("--device", "choice", "where torch runs", choices=("auto", "cpu", "cuda")),
    Option("--limit", "int", "only the first N samples", low=1),
    Option("--steps", "int", "time steps per sample of the deployed graph", low=1, high=1_000_000),
    Option("--lava-limit", "int", "digits test samples run on Lava", low=1),
    Option("--dt", "float", "time step of an imported NIR graph, in seconds", low=0, open_low=True),
)}


def argtype(flag: str):
    """The argparse ``type=`` of ``flag``: its table entry's parser, with argparse's error type (the
    parser adds the flag to the message)."""
    opt = OPTIONS[flag]

    def parse(text):
        try:
            return opt.parse(text)
        except ValueError as e:
            msg = str(e)
            raise argparse.ArgumentTypeError(msg[len(opt.label) + 2:] if msg.startswith(opt.label) else msg) from None

    parse.__name__ = opt.kind
    return parse


def accepts(flag: str) -> str:
    """What ``flag`` accepts, for its ``--help`` line."""
    return OPTIONS[flag].accepts()


def check_value(flag: str, value):
    """``value`` checked against the table (a Python value, e.g. a TrainConfig field); UserError."""
    try:
        return OPTIONS[flag].check(value)
    except ValueError as e:
        raise UserError(str(e)) from None


# -- resources ------------------------------------------------------------------------------------------

def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
    except (OSError, ValueError):
        return None
    return int(text) if text.isdigit() else None


def available_memory() -> int | None:
    """Bytes this process can still allocate: ``MemAvailable`` of /proc/meminfo, lowered by a
    cgroup limit (v2 ``memory.max`` − ``memory.current``, or v1); None where unknown."""
    avail = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            return None
    for limit_path, used_path in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                  ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                   "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit, used = _read_int(limit_path), _read_int(used_path)
        if limit is not None and used is not None and limit < (1 << 60):
            avail = min(avail, max(0, limit - used))
    return avail


def format_bytes(n: float) -> str:
    """``1.5 GB`` style (powers of 1024, one decimal)."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"  # pragma: no cover


#: Fraction of the available memory one request may take (the rest: interpreter, libraries, data).
MEMORY_SHARE = 0.8


def check_fits(nbytes: float, what: str, hint: str) -> None:
    """UserError if ``nbytes`` cannot be allocated here: ``what`` names the options that ask for it,
    ``hint`` says what to change. Silent where the available memory is unknown."""
    avail = available_memory()
    if avail is not None and nbytes > MEMORY_SHARE * avail:
        raise UserError(f"{what}: needs about {format_bytes(nbytes)} of memory, but "
                        f"{format_bytes(avail)} is available here; {hint}")


# -- paths ----------------------------------------------------------------------------------------------

def _safe(test, p) -> bool:
    """``test(p)``, False where the path itself is an error (a name too long, a loop of links)."""
    try:
        return test(p)
    except (OSError, ValueError):
        return False


def _exists(p) -> bool:
    return _safe(os.path.exists, p)


def _lexists(p) -> bool:
    return _safe(os.path.lexists, p)


def _is_dir(p) -> bool:
    return _safe(os.path.isdir, p)


def _is_file(p) -> bool:
    return _safe(os.path.isfile, p)


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _path_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):
        return 4096


def _lead(flag: str, path) -> str:
    """``--out PATH`` for an option, ``PATH`` alone for a positional argument (flag "")."""
    return f"{flag} {path}" if flag else f"{path}"


def _plain(path, flag: str) -> Path:
    text = os.fspath(path)
    if not text:
        raise UserError(f"{flag or 'path'}: empty path")
    if "\x00" in text:
        raise UserError(f"{_lead(flag, repr(text))}: a path cannot contain a NUL byte")
    return Path(text).expanduser()


def _existing_ancestor(path: Path, flag: str) -> Path:
    """The nearest existing folder above ``path``; UserError if a file sits where a folder belongs."""
    p = path.absolute().parent
    while not _exists(p):
        if p == p.parent:
            break
        p = p.parent
    if not _is_dir(p):
        raise UserError(f"{_lead(flag, path)}: {p} is a file, not a folder")
    return p


def _check_names(path: Path, anchor: Path, flag: str) -> None:
    """Each new component of ``path`` (below ``anchor``) within the file system's name limit."""
    limit = _name_max(anchor)
    absolute = path.absolute()
    rel = absolute.relative_to(anchor) if absolute != anchor else Path()
    for part in rel.parts:
        n = len(os.fsencode(part))
        if n > limit:
            raise UserError(f"{_lead(flag, path)}: the name '{part[:24]}...' is {n} bytes long; this file "
                            f"system allows {limit}")
    if len(os.fsencode(str(absolute))) >= _path_max(anchor):
        raise UserError(f"{_lead(flag, path)}: path too long for this file system")


def _probe_writable(folder: Path, path: Path, flag: str) -> None:
    """Create and remove a file in ``folder``: the only check that sees read-only mounts, ACLs and
    quotas, and that holds for root as for anyone."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".surnn-neuro-probe-", dir=folder)
    except OSError as e:
        raise UserError(f"{_lead(flag, path)}: cannot write in {folder} ({e.strerror})") from None
    os.close(fd)
    os.unlink(tmp)


def output_file(path, flag: str) -> Path:
    """``path`` checked as a file to be written (replaced if it exists); returns it as a Path."""
    p = _plain(path, flag)
    if _is_dir(p):
        raise UserError(f"{_lead(flag, p)}: is a folder; give a file name (e.g. {p / 'out.h5'})")
    if _lexists(p) and not _is_file(p):
        raise UserError(f"{_lead(flag, p)}: exists and is not a regular file")
    anchor = _existing_ancestor(p, flag)
    _check_names(p, anchor, flag)
    _probe_writable(anchor, p, flag)
    return p


def output_dir(path, flag: str, owned: tuple[str, ...] | None = None) -> Path:
    """``path`` checked as a folder that the command creates or replaces as a whole (through a
    staging folder beside it, :func:`surnn_neuro.fileio.staged_dir`).

    ``owned``: the file names the command writes there. An existing folder that holds anything
    else is refused, since replacing it would delete those files (None: the command keeps the
    folder's content, e.g. the main job). The current folder and its parents are refused too.
    """
    p = _plain(path, flag)
    if _lexists(p) and not _is_dir(p):
        raise UserError(f"{_lead(flag, p)}: exists and is not a folder")
    if _safe(os.path.ismount, p):
        raise UserError(f"{_lead(flag, p)}: a mount point cannot be replaced; give a folder inside it")
    here = Path.cwd().resolve()
    if _exists(p) and (p.resolve() == here or p.resolve() in here.parents):
        raise UserError(f"{_lead(flag, p)}: is the current folder or holds it; give a new sub-folder")
    anchor = _existing_ancestor(p, flag)
    _check_names(p, anchor, flag)
    _probe_writable(p.absolute().parent if _exists(p) else anchor, p, flag)
    if owned is not None and _is_dir(p):
        # the command's own files, and the temporary files a killed writer of them left behind
        ours = tuple(f".{name[:40]}." for name in owned)
        foreign = sorted(e.name for e in os.scandir(p) if e.name not in owned and not e.name.startswith(ours))
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise UserError(f"{_lead(flag, p)}: holds other files ({shown}); it would be replaced as a whole, so "
                            f"give a new or empty folder, or one that this command wrote")
    return p


def input_file(path, flag: str, what: str = "file") -> Path:
    """``path`` checked as an existing, readable file."""
    p = _plain(path, flag)
    if not _exists(p):
        parent = _first_missing_or_file(p)
        why = f" ({parent} is a file, not a folder)" if parent else ""
        raise UserError(f"{_lead(flag, p)}: {what} not found{why}")
    if _is_dir(p):
        raise UserError(f"{_lead(flag, p)}: is a folder, expected a {what}")
    if not _is_file(p):  # a FIFO or a device: opening it could block or never end
        raise UserError(f"{_lead(flag, p)}: not a regular file, expected a {what}")
    try:
        with open(p, "rb"):
            pass
    except OSError as e:
        raise UserError(f"{_lead(flag, p)}: cannot read it ({e.strerror})") from None
    return p


def input_dir(path, flag: str, what: str = "folder") -> Path:
    """``path`` checked as an existing, listable folder."""
    p = _plain(path, flag)
    if not _exists(p):
        raise UserError(f"{_lead(flag, p)}: {what} not found")
    if not _is_dir(p):
        raise UserError(f"{_lead(flag, p)}: is a file, expected a {what}")
    try:
        os.listdir(p)
    except OSError as e:
        raise UserError(f"{_lead(flag, p)}: cannot read it ({e.strerror})") from None
    return p


def input_path(path, flag: str, what: str = "file or folder") -> Path:
    """``path`` checked as an existing, readable file or folder."""
    p = _plain(path, flag)
    if not _exists(p):
        raise UserError(f"{_lead(flag, p)}: {what} not found")
    return input_dir(p, flag, what) if _is_dir(p) else input_file(p, flag, what)


def _first_missing_or_file(p: Path) -> Path | None:
    """An ancestor of ``p`` that is a file (so ``p`` cannot exist), if any."""
    for a in p.absolute().parents:
        if _exists(a):
            return a if not _is_dir(a) else None
    return None


def distinct_outputs(*pairs) -> None:
    """UserError if two outputs (``(flag, path)`` pairs, None skipped) are the same file."""
    seen = {}
    for flag, path in pairs:
        if path is None:
            continue
        key = os.path.abspath(os.fspath(path))
        if key in seen:
            raise UserError(f"{_lead(flag, path)}: the same file as {seen[key] or 'the input'}; give different names")
        seen[key] = flag
