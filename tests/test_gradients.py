"""Gradients from derive against central finite differences of an independent float model,
on random networks covering every built-in activation and loss, 1 to 4 layers, shared and
per-unit biases, formula activations and a formula loss; and against PyTorch when installed."""
import math
import random

import pytest
import yaml

import derive
from reference_model import Model

UNITWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softplus",
            "x*tanh(log(1+exp(x)))", "x/(1+abs(x))"]
PROBABILITY_OUTPUTS = ["sigmoid", "softmax"]
LOSSES = ["half_sse", "sse", "mse", "cross_entropy", "bce", "(t-o)^4/4"]


def random_spec(seed: int) -> str:
    rng = random.Random(seed)
    depth = 1 + seed % 4
    loss = LOSSES[seed % len(LOSSES)]
    sizes = [rng.randint(1, 3)] + [rng.randint(1, 3) for _ in range(depth)]
    if loss in ("cross_entropy",):
        output = "softmax"
        sizes[-1] = max(2, sizes[-1])
    elif loss == "bce":
        output = rng.choice(PROBABILITY_OUTPUTS) if sizes[-1] > 1 else "sigmoid"
    else:
        output = UNITWISE[seed % len(UNITWISE)] if seed % 5 else "softmax"
        if output == "softmax":
            sizes[-1] = max(2, sizes[-1])
    inputs = [f"x{i + 1}" for i in range(sizes[0])]
    layers, previous = [], inputs
    for index, size in enumerate(sizes[1:], start=1):
        units = [f"u{index}_{k + 1}" for k in range(size)]
        activation = output if index == depth else UNITWISE[(seed + index) % len(UNITWISE)]
        weights = [[round(rng.uniform(-1, 1), 2) for _ in previous] for _ in units]
        style = (seed + index) % 3
        layer = {"units": units, "activation": activation, "weights": weights}
        if style == 0:
            layer["bias"] = {f"b{index}": round(rng.uniform(-0.5, 0.5), 2)}
        elif style == 1:
            layer["bias"] = [round(rng.uniform(-0.5, 0.5), 2) for _ in units]
        layers.append(layer)
        previous = units
    if loss == "cross_entropy":
        hot = rng.randrange(sizes[-1])
        targets = [1 if k == hot else 0 for k in range(sizes[-1])]
    else:
        targets = [round(rng.uniform(0.05, 0.95), 2) for _ in range(sizes[-1])]
    spec = {"inputs": inputs, "layers": layers, "loss": loss,
            "sample": {"inputs": [round(rng.uniform(-1, 1), 2) for _ in inputs], "targets": targets},
            "learning_rate": 0.1, "update_biases": bool(seed % 2)}
    return yaml.safe_dump(spec, sort_keys=False)


def usable(model: Model) -> bool:
    """Reject networks sitting on a kink of relu/abs, where a finite difference is meaningless."""
    _, outs = model.forward()
    return all(abs(net) > 1e-3 for net, _ in outs.values())


SEEDS = [seed for seed in range(200) if usable(Model(random_spec(seed)))][:60]


def test_enough_networks_cover_everything():
    assert len(SEEDS) >= 50
    specs = [yaml.safe_load(random_spec(seed)) for seed in SEEDS]
    activations = {layer["activation"] for spec in specs for layer in spec["layers"]}
    assert set(UNITWISE) | {"softmax"} <= activations
    assert set(LOSSES) <= {spec["loss"] for spec in specs}
    assert {len(spec["layers"]) for spec in specs} == {1, 2, 3, 4}
    kinds = {type(layer.get("bias")).__name__ for spec in specs for layer in spec["layers"]}
    assert {"dict", "list", "NoneType"} <= kinds


@pytest.mark.parametrize("seed", SEEDS)
def test_gradients_match_finite_differences(seed):
    text = random_spec(seed)
    model = Model(text)
    derivation = derive.derive(derive.load_text(text))
    data = derivation.to_data()
    assert math.isclose(data["loss"], model.loss(), rel_tol=1e-12, abs_tol=1e-15)
    for name in model.params:
        expected = model.finite_difference(name)
        assert math.isclose(data["gradient"][name], expected, rel_tol=1e-6, abs_tol=1e-8), name
    eta = data["learning_rate"]
    spec = yaml.safe_load(text)
    for name, value in model.params.items():
        is_bias = name.startswith("b")
        moved = value if (is_bias and not spec["update_biases"]) else value - eta * data["gradient"][name]
        assert math.isclose(data["updated"][name], moved, rel_tol=1e-12, abs_tol=1e-15)
    after = dict(data["updated"])
    assert math.isclose(data["loss_after_update"], model.loss(after), rel_tol=1e-9, abs_tol=1e-15)


@pytest.mark.parametrize("seed", SEEDS[:12])
def test_gradients_match_pytorch(seed):
    torch = pytest.importorskip("torch")
    text = random_spec(seed)
    model = Model(text)
    params = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in model.params.items()}
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
                 "leaky_relu": lambda x: torch.nn.functional.leaky_relu(x, 0.01), "identity": lambda x: x,
                 "softplus": torch.nn.functional.softplus, "x*tanh(log(1+exp(x)))": torch.nn.functional.mish,
                 "x/(1+abs(x))": lambda x: x / (1 + x.abs())}
    values = [torch.tensor(float(v), dtype=torch.float64) for v in model.data["sample"]["inputs"]]
    for units, activation, rows, biases in model.layout:
        nets = [sum(params[w] * v for w, v in zip(row, values)) + (params[b] if b else 0) for row, b in zip(rows, biases)]
        if activation == "softmax":
            values = list(torch.softmax(torch.stack(nets), 0))
        else:
            values = [functions[activation](n) for n in nets]
    targets = [float(t) for t in model.data["sample"]["targets"]]
    losses = {"half_sse": lambda o, t: 0.5 * (t - o) ** 2, "sse": lambda o, t: (t - o) ** 2,
              "mse": lambda o, t: (t - o) ** 2, "cross_entropy": lambda o, t: -t * torch.log(o),
              "bce": lambda o, t: -(t * torch.log(o) + (1 - t) * torch.log(1 - o)),
              "(t-o)^4/4": lambda o, t: (t - o) ** 4 / 4}
    name = model.data["loss"]
    loss = sum(losses[name](o, t) for o, t in zip(values, targets))
    if name == "mse":
        loss = loss / len(values)
    loss.backward()
    data = derive.derive(derive.load_text(text)).to_data()
    for parameter, tensor in params.items():
        assert math.isclose(data["gradient"][parameter], tensor.grad.item(), rel_tol=1e-10, abs_tol=1e-13)
