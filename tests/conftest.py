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
