"""derive's cache directory: compiled templates, the claim parser's tables and training programs, one
directory a kind and version.

It lives in $XDG_CACHE_HOME/derive (default ~/.cache/derive). Entries are written atomically (a
temporary file in the same directory, then a rename), so runs at the same time never read half an
entry; an entry that cannot be read, or does not hold what its reader expects, is a miss, and output
is the same byte for byte with or without the cache. DERIVE_NO_CACHE=1, or a directory that cannot be
created, turns it off. This module imports no SymPy.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

MAX_ENTRY_BYTES = 50_000_000  # an entry larger than this is not read


def directory(kind: str) -> Path | None:
    """Return the cache directory of `kind` (templates, programs) for this version of derive, or None."""
    if os.environ.get("DERIVE_NO_CACHE"):
        return None
    from . import __version__
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(home) / "derive" / f"{kind}-{__version__}"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path


@lru_cache(maxsize=1)
def code_version() -> str:
    """Return a digest of derive's own code (every module of the package): an entry made by other code, even
    of the same version number (a development copy), is never read."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def key(*parts: str | bytes) -> str:
    """Return the key of an entry made from `parts` (each length-prefixed, so no two lists share a key)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def load_json(kind: str, name: str) -> object | None:
    """Return the JSON entry `name` of `kind`, or None (no cache, no entry, or one that cannot be read)."""
    folder = directory(kind)
    if folder is None:
        return None
    try:
        path = folder / f"{name}.json"
        if path.stat().st_size > MAX_ENTRY_BYTES:
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def tagged(value: object) -> object:
    """Return `value` (dicts, lists, tuples, strings, numbers, booleans, None) as JSON-ready data that
    :func:`untagged` turns back into it exactly: tuples and dicts (whose keys may be numbers) are tagged."""
    if isinstance(value, dict):
        return {"dict": [[tagged(k), tagged(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"tuple": [tagged(item) for item in value]}
    if isinstance(value, list):
        return [tagged(item) for item in value]
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise TypeError(f"cannot tag {type(value).__name__}")


def untagged(data: object) -> object:
    """Return the value :func:`tagged` made `data` from (ValueError where `data` is not such data)."""
    if isinstance(data, list):
        return [untagged(item) for item in data]
    if isinstance(data, dict):
        if list(data) == ["dict"] and isinstance(data["dict"], list):
            if not all(isinstance(pair, list) and len(pair) == 2 for pair in data["dict"]):
                raise ValueError("not a tagged dict")
            return {untagged(k): untagged(v) for k, v in data["dict"]}
        if list(data) == ["tuple"] and isinstance(data["tuple"], list):
            return tuple(untagged(item) for item in data["tuple"])
        raise ValueError("not tagged data")
    return data


def store_json(kind: str, name: str, data: object) -> None:
    """Write the JSON entry `name` of `kind` atomically; a cache that cannot be written is no error."""
    folder = directory(kind)
    if folder is None:
        return
    try:
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(data, file, separators=(",", ":"))
            os.replace(temporary, folder / f"{name}.json")
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass
