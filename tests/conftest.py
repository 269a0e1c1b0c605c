import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REFERENCE = SHARED / "reference" / "classic-2-2-2.json"


@pytest.fixture(scope="session")
def reference():
    if not REFERENCE.exists():
        import os
        if os.environ.get("CI") or os.environ.get("DERIVE_REQUIRE_TOOLS"):
            pytest.fail("../shared/reference must be beside the checkout in CI")
        pytest.skip("../shared/reference is not beside the checkout")
    return json.loads(REFERENCE.read_text())


def require_tool(name: str) -> str:
    """Return the path of a tool; skip locally when absent, but fail in CI (where .ci/run installs it)."""
    path = shutil.which(name)
    if path:
        return path
    import os
    if os.environ.get("CI") or os.environ.get("DERIVE_REQUIRE_TOOLS"):
        pytest.fail(f"{name} is required in CI (.ci/run installs it) but was not found")
    pytest.skip(f"{name} is not installed")


def require_module(name: str):
    """Return an imported module; skip locally when absent, but fail in CI (where the test extras install it)."""
    import importlib
    import os
    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("CI") or os.environ.get("DERIVE_REQUIRE_TOOLS"):
            pytest.fail(f"the Python module {name} is required in CI but is not installed")
        pytest.skip(f"{name} is not installed")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's, driven by Playwright; no browser is downloaded) for the whole run."""
    chromium = require_tool("chromium")
    playwright = require_module("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        instance = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield instance
        instance.close()


def require_tex(engine: str, files) -> None:
    """Skip locally, fail in CI, unless latexmk, `engine` and every TeX file in `files` (found by kpsewhich) exist.

    A partial TeX (pdflatex without lmodern, xelatex without ctex) is treated
    like a missing one: the message names what is missing, on one line.
    """
    import os
    import subprocess
    missing = [tool for tool in ("latexmk", engine, "kpsewhich") if shutil.which(tool) is None]
    if not missing:
        found = subprocess.run(["kpsewhich", *files], capture_output=True, text=True, timeout=60).stdout.split()
        names = {Path(path).name for path in found}
        missing = [name for name in files if name not in names]
    if not missing:
        return
    message = f"PDF tests with {engine} need {', '.join(missing)}, which TeX here does not have"
    if os.environ.get("CI") or os.environ.get("DERIVE_REQUIRE_TOOLS"):
        pytest.fail(f"{message} (required in CI; .ci/run installs TeX)")
    pytest.skip(message)


def png_pixels(png: bytes) -> list[list[tuple[int, ...]]]:
    """Return the pixels of a PNG (8-bit gray, RGB or RGBA, as Chromium and pdftoppm write them) as rows of
    colour tuples (alpha dropped): a small decoder, so that the tests need no imaging library."""
    import struct
    import zlib
    width, height, depth, colour = struct.unpack(">IIBB", png[16:26])
    assert depth == 8 and colour in (0, 2, 6)
    channels = {0: 1, 2: 3, 6: 4}[colour]
    chunks, position = [], 8
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        if kind == b"IDAT":
            chunks.append(png[position + 8:position + 8 + length])
        position += 12 + length
    raw, stride = zlib.decompress(b"".join(chunks)), width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):  # undo PNG's per-row filters
        kind, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = row[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                row[x] = (row[x] + left) & 255
            elif kind == 2:
                row[x] = (row[x] + up) & 255
            elif kind == 3:
                row[x] = (row[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                row[x] = (row[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append([tuple(row[x:x + min(channels, 3)]) for x in range(0, stride, channels)])
        previous = row
    return rows
