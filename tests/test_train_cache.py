"""derive train's cache of compiled programs: a repeated run imports no SymPy and prints the same bytes.

Truth: the output of the run that derived the program (compared byte for byte), the loss of the classic
run in ../shared/reference, Python's own record of what was imported (sys.modules in a fresh process),
and a cache entry written by hand with code derive would never generate.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import derive

PROBE = """
import sys
sys.argv = ["derive", *sys.argv[1:]]
from derive.launch import main
try:
    main()
finally:
    sys.stderr.write("\\nsympy imported: %s\\n" % ("sympy" in sys.modules))
"""


def derive_train(cache: Path, *args: str, **env: str) -> tuple[str, str, int]:
    environment = {key: value for key, value in os.environ.items() if key != "DERIVE_NO_CACHE"}
    environment.update(XDG_CACHE_HOME=str(cache), **env)
    done = subprocess.run([sys.executable, "-c", PROBE, "train", *args], capture_output=True, text=True,
                          env=environment, timeout=300)
    return done.stdout, done.stderr, done.returncode


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("derive/programs-*/*.json"))


def test_a_repeated_run_imports_no_sympy_and_prints_the_same(tmp_path, reference):
    first, said, code = derive_train(tmp_path, "--steps", "10000", "-f", "json")
    assert code == 0 and "sympy imported: True" in said
    assert len(entries(tmp_path)) == 1
    again, said, code = derive_train(tmp_path, "--steps", "10000", "-f", "json")
    assert code == 0 and "sympy imported: False" in said
    assert again == first
    assert json.loads(again)["loss"] == pytest.approx(reference["train_10000"]["loss"], rel=1e-12)
    # Other steps, another format: the same program, still no SymPy; another rule: a program of its own.
    text, said, _ = derive_train(tmp_path, "--steps", "50", "--every", "10")
    assert "sympy imported: False" in said and text.startswith("Training: 50 update(s)")
    _, said, _ = derive_train(tmp_path, "--steps", "5", "--optimizer", "adam")
    assert "sympy imported: True" in said and len(entries(tmp_path)) == 2


def test_the_spec_and_the_options_are_the_key(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text(derive.examples.path("classic").read_text(encoding="utf-8"), encoding="utf-8")
    cache = tmp_path / "cache"
    before, _, _ = derive_train(cache, str(spec), "--steps", "3", "-f", "json")
    spec.write_text(spec.read_text(encoding="utf-8").replace("learning_rate: 0.5", "learning_rate: 0.25"),
                    encoding="utf-8")
    changed, said, _ = derive_train(cache, str(spec), "--steps", "3", "-f", "json")
    assert "sympy imported: True" in said and json.loads(changed)["loss"] != json.loads(before)["loss"]
    assert len(entries(cache)) == 2
    for option in (["--momentum", "0.5", "--optimizer", "momentum"], ["--weight-decay", "0.01"]):
        _, said, _ = derive_train(cache, str(spec), "--steps", "3", *option)
        assert "sympy imported: True" in said
    assert len(entries(cache)) == 4


def test_an_entry_that_is_not_derives_code_is_never_run(tmp_path):
    first, _, _ = derive_train(tmp_path, "--steps", "20")
    (entry,) = entries(tmp_path)
    data = json.loads(entry.read_text(encoding="utf-8"))
    marker = tmp_path / "ran"
    data["update"]["source"] = (f"def program(*v):\n    open({str(marker)!r}, 'w')\n    return v\n")
    entry.write_text(json.dumps(data), encoding="utf-8")
    again, said, code = derive_train(tmp_path, "--steps", "20")
    assert code == 0 and again == first and not marker.exists()
    assert "sympy imported: True" in said  # derived again, and the entry replaced by derive's own
    assert "open(" not in entries(tmp_path)[0].read_text(encoding="utf-8")
    for damage in ("{", "[]", json.dumps({**data, "format": 99}), json.dumps({**data, "initial": ["x"]})):
        entries(tmp_path)[0].write_text(damage, encoding="utf-8")
        again, _, code = derive_train(tmp_path, "--steps", "20")
        assert code == 0 and again == first


def test_no_cache_writes_nothing_and_an_unwritable_cache_is_no_error(tmp_path):
    first, _, code = derive_train(tmp_path, "--steps", "5", DERIVE_NO_CACHE="1")
    assert code == 0 and not entries(tmp_path)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would be", encoding="utf-8")
    again, _, code = derive_train(blocked, "--steps", "5")
    assert code == 0 and again == first


def test_runs_at_the_same_time_share_the_cache(tmp_path):
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    environment.pop("DERIVE_NO_CACHE", None)
    runs = [subprocess.Popen([sys.executable, "-m", "derive", "train", "--steps", "200", "-f", "json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
            for _ in range(4)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    assert len({out for out, _ in outputs}) == 1
    assert len(entries(tmp_path)) == 1 and not list(tmp_path.glob("derive/programs-*/.*.tmp"))
    again, said, _ = derive_train(tmp_path, "--steps", "200", "-f", "json")
    assert again == outputs[0][0] and "sympy imported: False" in said
