"""Writing output files without ever losing one: atomically, and never over a file derive did not write.

The file a user names (-o FILE) may be replaced, if it is a regular file;
`/dev/null`, `/dev/stdout` and `/dev/stderr` are written into, never
renamed over; any other special file (a device, a FIFO, a directory) is
refused. A file derive writes beside it (the SVG of a Markdown document, the
files of a handout directory) replaces an existing one only when derive
wrote that one and nobody changed it since: an SVG carries a marker with the
SHA-256 of the rest of its content, and a handout directory keeps a manifest
(`.derive-files`) of each file's name and SHA-256.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path

from .errors import DeriveError

MANIFEST = ".derive-files"
WRITTEN_INTO = ("/dev/null", "/dev/stdout", "/dev/stderr")  # special files a user means to write into
_MARKER = re.compile(rb"<!-- written by derive; sha256 ([0-9a-f]{64}) -->\n")


class OutputError(DeriveError):
    """An output that cannot be written, or that would replace a file derive did not write."""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def mark_svg(svg: str) -> str:
    """Return an SVG document with derive's marker after its XML declaration: the SHA-256 of the rest."""
    declaration, _, body = svg.partition("\n")
    marker = f"<!-- written by derive; sha256 {_digest(body.encode('utf-8'))} -->\n"
    return f"{declaration}\n{marker}{body}"


def _marked_by_us(data: bytes) -> bool:
    """Return True for a file with derive's marker whose content still has the recorded SHA-256."""
    declaration, _, rest = data.partition(b"\n")
    match = _MARKER.match(rest)
    return bool(match) and _digest(rest[match.end():]) == match.group(1).decode()


def _file_digest(path: Path) -> str | None:
    try:
        return _digest(path.read_bytes())
    except OSError:
        return None


def read_manifest(directory: Path) -> dict[str, str]:
    """Return name -> SHA-256 of the files derive wrote into a directory (empty when there is no manifest).

    A line is "SHA-256  name". A line of an older manifest that has no digest is kept out: a file
    under that name is no longer known to be derive's.
    """
    path = directory / MANIFEST
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    recorded = {}
    for line in lines:
        digest, separator, name = line.partition("  ")
        if separator and re.fullmatch(r"[0-9a-f]{64}", digest):
            recorded[name] = digest
    return recorded


def _key(path: Path, directory: Path | None) -> str:
    """Return how the manifest of `directory` names `path`: its path relative to the directory."""
    try:
        return path.relative_to(directory).as_posix() if directory is not None else path.name
    except ValueError:
        return path.name


def ours(path: Path, manifest: dict[str, str] | None = None, directory: Path | None = None) -> bool:
    """Return True when the file at `path` is one derive wrote and nobody has changed since: recorded with
    its SHA-256 in the `manifest` of `directory`, or an SVG whose marker matches its content."""
    if manifest is not None and _key(path, directory) in manifest:
        return _file_digest(path) == manifest[_key(path, directory)]
    if path.suffix == ".svg":
        try:
            return _marked_by_us(path.read_bytes())
        except OSError:
            return False
    return False


def write_documents(named: Path | None, files: list[tuple[Path, object]], manifest_directory: Path | None = None):
    """Write `files` [(path, text or bytes)], each atomically; return nothing, or raise OutputError.

    `named` is the file the user asked for (it may be replaced, see :func:`check_target`); every other
    file may only be new or derive's own (:func:`ours`). All are checked before any is written, and the
    one the user named is written last, so a Markdown file never links to an SVG that is not there.
    With `manifest_directory`, the manifest of that directory records what was written.
    """
    manifest = read_manifest(manifest_directory) if manifest_directory is not None else None
    for path, _ in files:
        if path == named:
            check_target(path)
        elif path.exists() or path.is_symlink():
            if not path.is_file() or path.is_symlink() or not ours(path, manifest, manifest_directory):
                raise OutputError("error_output_not_ours", path=str(path))
    ordered = [entry for entry in files if entry[0] != named] + [entry for entry in files if entry[0] == named]
    written = {}
    for path, content in ordered:
        data = content.encode("utf-8") if isinstance(content, str) else content
        if manifest_directory is not None:
            _make_directory(path.parent)
        write_output(path, data)
        written[_key(path, manifest_directory)] = _digest(data)
    if manifest_directory is not None:
        manifest.update(written)
        text = "".join(f"{digest}  {name}\n" for name, digest in sorted(manifest.items()))
        write_atomically(manifest_directory / MANIFEST, text.encode("utf-8"))


def _make_directory(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError("error_cannot_create_directory", str(directory), reason=error.strerror or error) from None


def check_target(path: Path) -> None:
    """Raise OutputError when `path` exists and is neither a regular file nor one of WRITTEN_INTO."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as error:
        raise OutputError("error_os", str(path), reason=error.strerror or error) from None
    if stat.S_ISREG(status.st_mode) or os.path.abspath(path) in WRITTEN_INTO:
        return
    raise OutputError("error_output_directory" if stat.S_ISDIR(status.st_mode) else "error_output_not_regular",
                      path=str(path))


def write_output(path: Path, data: bytes) -> None:
    """Write `data` to `path`: into it for /dev/null and the like, otherwise atomically."""
    check_target(path)
    if os.path.abspath(path) in WRITTEN_INTO and path.exists():
        try:
            with open(path, "wb") as stream:
                stream.write(data)
        except OSError as error:
            raise OutputError("error_cannot_write", str(path), reason=error.strerror or error) from None
        return
    write_atomically(path, data)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory, then rename it into place.

    The temporary file is removed whatever happens, an interruption (Ctrl-C, SIGTERM) included.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError("error_no_directory", str(path), directory=str(directory))
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise OutputError("error_cannot_write_into", str(path), directory=str(directory), reason=error.strerror or error) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        mode = path.stat().st_mode & 0o777 if path.is_file() else 0o666 & ~_umask()
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError("error_cannot_write", str(path), reason=error.strerror or error) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
