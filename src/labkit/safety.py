"""Nothing is lost: outputs never overwrite their inputs, are written atomically, and stay in their folder.

- `guard_output` / `guard_output_dir` compare file identity (device + inode), so a symlink or a hard link to an
  input is caught as well as the same path.
- `output_dir` creates an output folder (and its parents) or says in words why it cannot (a path component is
  a file, a folder is read-only).
- `atomic_write_text` / `atomic_write_bytes` / `atomic_path` write to a temporary file in the same folder and
  rename it over the target (os.replace), so a failure leaves the previous file untouched and no partial file.
- `staged_dir` is for commands that write many files: they write into a hidden staging folder inside the
  output folder, which is moved into place only when every file is written; on failure nothing new is left.
- `safe_name` turns a plate id / compound name into one file-name component; `inside` refuses a path that
  would leave the output folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from labkit.errors import LabkitError

# files `labkit analyze` writes into its output folder (pictures go to sub-folders)
ANALYSIS_OUTPUTS = ("data.csv", "results.csv", "results.parquet", "qc.csv", "plates.csv", "controls.csv",
                    "report.html", "curves_grid.png")

ANALYSIS_FOLDERS = ("curves", "heatmaps")
_STAGING_PREFIX = ".labkit-staging-"


def _identity(p: Path) -> tuple[int, int] | None:
    """(st_dev, st_ino) of the file p names (symlinks followed), None when it does not exist."""
    try:
        st = os.stat(p)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when a and b are the same file: same path, a symlink to it, or a hard link (same device + inode)."""
    ia, ib = _identity(Path(a)), _identity(Path(b))
    if ia is not None and ib is not None:
        return ia == ib
    try:  # one of them does not exist yet: only the same resolved path can be the same file
        return Path(a).resolve() == Path(b).resolve()
    except OSError:  # pragma: no cover - unresolvable paths cannot be the same file
        return False


def guard_output(output: str | Path, inputs: Sequence[str | Path]) -> Path:
    """Refuse an output path that is one of the input files (raw data is never overwritten)."""
    out = Path(output)
    for inp in inputs:
        if same_file(out, inp):
            raise LabkitError(f"refusing to write the output over the input {inp}: raw data is never "
                              "overwritten; choose another -o path", file=out)
    if out.is_dir():
        raise LabkitError("is a folder; give a file name for the output", file=out)
    return out


def guard_output_dir(out_dir: str | Path, inputs: Sequence[str | Path],
                     names: tuple[str, ...] = ANALYSIS_OUTPUTS, folders: tuple[str, ...] = ANALYSIS_FOLDERS) -> Path:
    """Refuse an output folder where writing `names` would replace an input file, or where a file name labkit
    writes is a folder (or a sub-folder it writes is a file): checked before any work is done."""
    out = Path(out_dir)
    for inp in inputs:
        p = Path(inp)
        if any(same_file(out / name, p) for name in names):
            raise LabkitError(f"the output folder {out} would overwrite the input {p} (labkit writes "
                              f"{', '.join(names)} there); choose another -o folder", file=p)
    if out.exists() and not out.is_dir():
        raise LabkitError("is a file, not a folder; choose another output folder", file=out)
    clash = [f"{out / n} is a folder, but labkit writes a file of that name there" for n in names
             if (out / n).is_dir()]
    clash += [f"{out / n} is a file, but labkit writes a folder of that name there" for n in folders
              if (out / n).exists() and not (out / n).is_dir()]
    if clash:
        raise LabkitError("cannot write the outputs here; nothing was written", file=out, problems=clash)
    return out


def _explain(exc: OSError, path: Path) -> str:
    """An OSError as words a scientist can act on."""
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied: the folder is read-only for you; choose another output folder"
    if code == errno.ENOTDIR:
        return "a part of this path is a file, not a folder; choose another output path"
    if code == errno.EEXIST:
        return "exists and is not a folder; choose another output folder"
    if code == errno.ENOSPC:
        return "no space left on the device"
    if code == errno.ENAMETOOLONG:
        return "file name too long"
    return exc.strerror or str(exc)


def output_dir(path: str | Path) -> Path:
    """Create the output folder (and missing parents); LabkitError naming the path when that is impossible."""
    p = Path(path)
    for part in [p, *p.parents]:  # the first existing component must be a folder
        if part.exists() or part.is_symlink():
            if not part.is_dir():
                raise LabkitError(f"{part} is a file, not a folder; choose another output folder", file=p)
            break
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LabkitError(f"cannot create the output folder: {_explain(exc, p)}", file=p) from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise LabkitError("permission denied: the output folder is read-only for you; choose another one",
                          file=p)
    return p


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; when the block succeeds it replaces `path` in one rename."""
    target = Path(path)
    output_dir(target.parent if str(target.parent) else Path("."))
    try:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:60]}.", suffix=".tmp")
    except OSError as exc:
        raise LabkitError(f"cannot write here: {_explain(exc, target)}", file=target) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, target)
    except OSError as exc:
        raise LabkitError(f"cannot write the file: {_explain(exc, target)}", file=target) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write bytes to path atomically (temp file in the same folder, fsync, rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write text to path atomically (as bytes: no newline translation)."""
    return atomic_write_bytes(path, text.encode(encoding))


def _commit(stage: Path, dest: Path, moved: list[Path]) -> None:
    for item in sorted(stage.iterdir()):
        target = dest / item.name
        if item.is_dir() and not item.is_symlink():
            if not target.is_dir():
                os.mkdir(target)
                moved.append(target)
            _commit(item, target, moved)
        else:
            os.replace(item, target)


def _conflicts(stage: Path, dest: Path) -> list[str]:
    """Staged entries whose destination has the wrong kind (a folder where a file goes, or the reverse)."""
    out = []
    for item in stage.iterdir():
        target = dest / item.name
        if item.is_dir():
            if target.exists() and not target.is_dir():
                out.append(f"{target} is a file, but labkit writes a folder of that name there")
            elif target.is_dir():
                out += _conflicts(item, target)
        elif target.is_dir():
            out.append(f"{target} is a folder, but labkit writes a file of that name there")
    return out


@contextlib.contextmanager
def staged_dir(out_dir: str | Path) -> Iterator[Path]:
    """Yield a hidden staging folder inside out_dir; move its contents into out_dir only if the block succeeds.

    Every output name is checked before anything is moved (a file where a folder must go is an error), so a
    failing command leaves out_dir as it was, apart from a folder it had to create.
    """
    dest = output_dir(out_dir)
    try:
        stage = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=dest))
    except OSError as exc:
        raise LabkitError(f"cannot write into the output folder: {_explain(exc, dest)}", file=dest) from None
    try:
        yield stage
        problems = _conflicts(stage, dest)
        if problems:
            raise LabkitError("cannot write the outputs; nothing was written", file=dest, problems=problems)
        try:
            _commit(stage, dest, [])
        except OSError as exc:
            raise LabkitError(f"cannot write the outputs: {_explain(exc, dest)}", file=dest) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def safe_name(text: str, default: str = "unnamed") -> str:
    """One file-name component from free text: no separators, no leading dots, at most 100 characters."""
    s = re.sub(r"[^A-Za-z0-9._+-]+", "_", str(text)).strip("._")
    return s[:100] or default


def inside(folder: str | Path, name: str) -> Path:
    """folder / name, refused when it would resolve outside folder (a name is never a way out)."""
    base = Path(folder).resolve()
    p = (base / name).resolve()
    if p != base and base not in p.parents:
        raise LabkitError(f"the file name {name!r} would leave the output folder {folder}", file=folder)
    return Path(folder) / name
