"""The matrix form of the training step (derive/matrix.py): NumPy arrays, the same figures.

Truth is not the code under test: the NumPy network of tests/test_optimizers.py (its own backward pass and
optimizer formulas), PyTorch when installed, and derive's scalar plan (one line of float code a quantity,
generated from the same program by another route) to the last few ulps.
"""
import json
import random

import pytest
import yaml

import derive
from derive.loop import Plan, run
from derive.matrix import NoMatrixForm
from derive.train import plan
from test_optimizers import OPTIMIZERS, numpy_run, random_network, torch_run

ARRAY_WISE = ("sigmoid", "tanh", "softplus", "identity")


def matrix_network(rng: random.Random, optimizer: str) -> dict:
    """A random network of the matrix form: per-unit biases (or none), no shared parameter, unit-wise
    activations NumPy code is written for; several samples and every batch mode, as random_network makes."""
    data = random_network(rng, optimizer)
    for layer in data["layers"]:
        if isinstance(layer.get("bias"), dict):
            (value,) = layer["bias"].values()
            layer["bias"] = [value] * len(layer["units"])
        if layer["activation"] not in ARRAY_WISE:
            layer["activation"] = rng.choice(ARRAY_WISE)
    if data["loss"] == "cross_entropy":  # its softmax output layer is layer-wise: no matrix form
        data["loss"] = "bce"
        for sample in data["samples"]:
            sample["targets"] = [0.25 + 0.5 * t for t in sample["targets"]]
    if data["loss"] == "bce":  # outputs in (0, 1)
        data["layers"][-1]["activation"] = "sigmoid"
    return data


def derived(data: dict):
    return derive.derive(derive.load_text(yaml.safe_dump(data)))


CASES = [(optimizer, seed) for optimizer in OPTIMIZERS for seed in range(3)]


@pytest.mark.parametrize("optimizer,seed", CASES)
def test_the_matrix_form_trains_as_the_numpy_network_and_the_scalar_plan_do(optimizer, seed):
    data = matrix_network(random.Random(f"matrix{optimizer}{seed}"), optimizer)
    derivation = derived(data)
    matrix = plan(derivation, "matrix")
    assert matrix.form == "matrix" and "numpy.dot" in matrix.forward.source
    result = run(matrix, 12, 4)
    loss, params = numpy_run(data, 12)
    assert result.loss == pytest.approx(loss, rel=1e-9, abs=1e-13)
    for name, value in params.items():
        assert result.params[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    scalar = run(plan(derivation, "scalar"), 12, 4)
    assert [l for _, l in result.history] == pytest.approx([l for _, l in scalar.history], rel=1e-12, abs=1e-15)
    for sample, expected in zip(result.outputs, scalar.outputs):
        assert sample == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_matrix_form_trains_as_torch_does(optimizer):
    from conftest import require_module
    require_module("torch")
    data = matrix_network(random.Random(f"torch-matrix{optimizer}"), optimizer)
    result = run(plan(derived(data), "matrix"), 12)
    loss, params = torch_run(data, 12)
    assert result.loss == pytest.approx(loss, rel=1e-9, abs=1e-13)
    for name, value in params.items():
        assert result.params[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_a_large_network_takes_the_matrix_form_and_a_small_one_the_scalar():
    rng = random.Random(3)
    sizes = [6, 12, 12, 4]
    data = {"inputs": [f"x{k}" for k in range(sizes[0])], "loss": "half_sse", "learning_rate": 0.1,
            "layers": [{"units": [f"u{i}_{k}" for k in range(b)], "activation": "sigmoid",
                        "weights": [[round(rng.uniform(-0.5, 0.5), 3) for _ in range(a)] for _ in range(b)],
                        "bias": [round(rng.uniform(-0.1, 0.1), 3) for _ in range(b)]}
                       for i, (a, b) in enumerate(zip(sizes, sizes[1:]), start=1)],
            "sample": {"inputs": [0.5] * sizes[0], "targets": [0.2] * sizes[-1]}}
    assert plan(derived(data)).form == "matrix"  # 264 weights
    assert plan(derive.derive(derive.example("classic"))).form == "scalar"


@pytest.mark.parametrize("change", ["shared bias", "relu", "softmax"])
def test_a_program_not_of_the_matrix_form_keeps_the_scalar_plan(change):
    data = matrix_network(random.Random("fallback"), "sgd")
    layer = data["layers"][-1]  # 2 or 3 units
    if change == "shared bias":
        layer["bias"] = {"b_shared": 0.1}
    elif change == "relu":
        layer["activation"] = "relu"
    else:
        data["layers"][-1]["activation"], data["loss"] = "softmax", "cross_entropy"
        for sample in data["samples"]:
            sample["targets"] = [1.0] + [0.0] * (len(sample["targets"]) - 1)
    derivation = derived(data)
    with pytest.raises(NoMatrixForm):
        plan(derivation, "matrix")
    assert plan(derivation, "auto").form == "scalar"


def test_a_matrix_plan_round_trips_through_its_data_and_refuses_other_code():
    data = matrix_network(random.Random("round"), "momentum")
    made = plan(derived(data), "matrix")
    again = Plan.from_data(json.loads(json.dumps(made.to_data())))
    assert run(again, 9, 3) == run(made, 9, 3)
    hostile = made.to_data()
    hostile["forward"]["source"] = hostile["forward"]["source"].replace("numpy.sum", "numpy.load", 1)
    with pytest.raises(ValueError):
        Plan.from_data(hostile)
    hostile = made.to_data()
    hostile["initial"] = [[["deep"]]]
    with pytest.raises(ValueError):
        Plan.from_data(hostile)


def test_without_numpy_a_large_network_keeps_the_scalar_plan(monkeypatch):
    import derive.train
    data = matrix_network(random.Random("no numpy"), "sgd")
    monkeypatch.setattr(derive.train, "MATRIX_FROM", 1)
    derivation = derived(data)
    assert plan(derivation).form == "matrix"
    monkeypatch.setattr(derive.train, "_have_numpy", lambda: False)
    assert plan(derivation).form == "scalar"
