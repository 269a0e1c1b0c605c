"""Update rules and batches: derive train against torch.optim and against a NumPy implementation of its own.

Truth is not the code under test: PyTorch float64 autograd with torch.optim's optimizers (when torch is
installed; CI installs the CPU build), and a small NumPy network written here, with its own backward pass
(hand-written derivatives of each activation and loss) and its own optimizer formulas, as torch.optim's
documentation writes them. Both take the batches in the order derive's documentation promises: each epoch
the next shuffle of one random.Random(seed).
"""
import math
import random

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import derive
from derive.cli import cli
from derive.train import train

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam")
UNIT_WISE = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity")


def random_network(rng: random.Random, optimizer: str) -> dict:
    """A random network: 1–4 layers, any activation and loss, shared or per-unit biases, 1–4 samples,
    any batch mode, the optimizer with random hyper-parameters."""
    output, loss = rng.choice([("sigmoid", "half_sse"), ("sigmoid", "bce"), ("identity", "mse"),
                               ("softmax", "cross_entropy"), ("tanh", "sse"), (rng.choice(UNIT_WISE), "half_sse")])
    depth = rng.randint(1, 4)
    sizes = [rng.randint(1, 3)] + [rng.randint(1, 3) for _ in range(depth - 1)] + [rng.randint(2, 3)]
    weight = lambda: round(rng.uniform(-0.9, 0.9), 2) or 0.13  # noqa: E731
    layers = []
    for index, (fan_in, units) in enumerate(zip(sizes, sizes[1:]), start=1):
        layer = {"units": [f"u{index}_{k}" for k in range(units)],
                 "activation": rng.choice(UNIT_WISE) if index < len(sizes) - 1 else output,
                 "weights": [[weight() for _ in range(fan_in)] for _ in range(units)]}
        choice = rng.random()
        if choice < 0.4:
            layer["bias"] = {f"b{index}": weight()}
        elif choice < 0.85:
            layer["bias"] = [weight() for _ in range(units)]
        layers.append(layer)

    def targets():
        if output == "softmax":
            values = [0.0] * sizes[-1]
            values[rng.randrange(sizes[-1])] = 1.0
            return values
        return [round(rng.uniform(0.1, 0.9), 2) for _ in range(sizes[-1])]

    samples = [{"inputs": [round(rng.uniform(-1, 1), 2) or 0.3 for _ in range(sizes[0])], "targets": targets()}
               for _ in range(rng.randint(1, 4))]
    hyper = {"name": optimizer}
    if optimizer in ("momentum", "nesterov"):
        hyper["momentum"] = rng.choice([0.5, 0.9])
    if optimizer == "rmsprop":
        hyper["alpha"] = rng.choice([0.9, 0.99])
    if optimizer == "adam":
        hyper["beta1"], hyper["beta2"] = rng.choice([(0.9, 0.999), (0.8, 0.99)])
    if rng.random() < 0.4:
        hyper["weight_decay"] = 0.01
    data = {"inputs": [f"x{k}" for k in range(sizes[0])], "layers": layers, "loss": loss, "samples": samples,
            "batch": rng.choice(["full", "each", 1, 2]) if len(samples) > 2 else rng.choice(["full", "each"]),
            "batch_loss": rng.choice(["mean", "sum"]), "seed": rng.randint(0, 99),
            "learning_rate": rng.choice([0.05, 0.1]) if optimizer in ("rmsprop", "adam", "adagrad")
            else rng.choice([0.1, 0.5]),
            "optimizer": hyper, "update_biases": rng.random() < 0.8}
    return data


def batches(data: dict, steps: int) -> list[list[int]]:
    """The batches of `steps` updates as derive's documentation promises them."""
    count, batch = len(data["samples"]), data.get("batch", "full")
    rng, result = random.Random(data.get("seed", 0)), []
    while len(result) < steps:
        if batch == "full":
            result.append(list(range(count)))
        elif batch == "each":
            result.extend([index] for index in range(count))
        else:
            order = list(range(count))
            rng.shuffle(order)
            result.extend(order[start:start + batch] for start in range(0, count, batch))
    return result[:steps]


class NumpyNetwork:
    """The network of `data` in NumPy: weights by name, forward and backward by hand."""

    DERIVATIVES = {"sigmoid": lambda net, out: out * (1 - out), "tanh": lambda net, out: 1 - out ** 2,
                   "relu": lambda net, out: (net > 0).astype(float),
                   "leaky_relu": lambda net, out: np.where(net > 0, 1.0, 0.01),
                   "softplus": lambda net, out: 1 / (1 + np.exp(-net)), "identity": lambda net, out: np.ones_like(net)}
    FUNCTIONS = {"sigmoid": lambda x: 1 / (1 + np.exp(-x)), "tanh": np.tanh, "relu": lambda x: np.maximum(x, 0),
                 "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x), "softplus": lambda x: np.log1p(np.exp(x)),
                 "identity": lambda x: x}

    def __init__(self, data: dict):
        self.data, self.params, self.layers, self.biases = data, {}, [], set()
        previous = data["inputs"]
        for index, layer in enumerate(data["layers"], start=1):
            names = [[f"w_{unit}_{source}" for source in previous] for unit in layer["units"]]
            for row_names, row in zip(names, layer["weights"]):
                self.params.update(zip(row_names, map(float, row)))
            bias = layer.get("bias")
            if isinstance(bias, dict):
                (name, value), = bias.items()
                bias_names = [name] * len(layer["units"])
                self.params[name] = float(value)
            elif isinstance(bias, list):
                bias_names = [f"b_{unit}" for unit in layer["units"]]
                self.params.update(zip(bias_names, map(float, bias)))
            else:
                bias_names = [None] * len(layer["units"])
            self.biases.update(name for name in bias_names if name)
            self.layers.append((layer["activation"], names, bias_names))
            previous = layer["units"]

    def forward(self, inputs):
        values, cache = np.array(inputs, dtype=float), []
        for activation, names, bias_names in self.layers:
            weights = np.array([[self.params[n] for n in row] for row in names])
            bias = np.array([self.params[n] if n else 0.0 for n in bias_names])
            net = weights @ values + bias
            if activation == "softmax":
                exps = np.exp(net - net.max())
                out = exps / exps.sum()
            else:
                out = self.FUNCTIONS[activation](net)
            cache.append((values, weights, net, out))
            values = out
        return values, cache

    def loss(self, inputs, targets) -> float:
        o, t = self.forward(inputs)[0], np.array(targets, dtype=float)
        kind = self.data["loss"]
        terms = {"half_sse": lambda: 0.5 * (t - o) ** 2, "sse": lambda: (t - o) ** 2, "mse": lambda: (t - o) ** 2 / len(o),
                 "bce": lambda: -(t * np.log(o) + (1 - t) * np.log(1 - o)), "cross_entropy": lambda: -t * np.log(o)}
        return float(terms[kind]().sum())

    def gradients(self, inputs, targets) -> dict[str, float]:
        o, cache = self.forward(inputs)
        t = np.array(targets, dtype=float)
        error = {"half_sse": lambda: o - t, "sse": lambda: 2 * (o - t), "mse": lambda: 2 * (o - t) / len(o),
                 "bce": lambda: -t / o + (1 - t) / (1 - o), "cross_entropy": lambda: -t / o}[self.data["loss"]]()
        grads = dict.fromkeys(self.params, 0.0)
        for (activation, names, bias_names), (values, weights, net, out) in zip(reversed(self.layers),
                                                                                 reversed(cache)):
            if activation == "softmax":
                delta = out * (error - out @ error)
            else:
                delta = self.DERIVATIVES[activation](net, out) * error
            for r, row in enumerate(names):
                for c, name in enumerate(row):
                    grads[name] += delta[r] * values[c]
                if bias_names[r]:
                    grads[bias_names[r]] += delta[r]
            error = weights.T @ delta
        return grads


def numpy_run(data: dict, steps: int) -> tuple[float, dict[str, float]]:
    """Train the NumPy network by the optimizer's formulas as torch.optim documents them."""
    network = NumpyNetwork(data)
    hyper = dict(data["optimizer"])
    name, lr = hyper.pop("name"), float(data["learning_rate"])
    defaults = {"momentum": 0.9, "alpha": 0.99, "eps": 1e-10 if name == "adagrad" else 1e-8, "beta1": 0.9,
                "beta2": 0.999, "weight_decay": 0.0}
    h = {**defaults, **hyper}
    trained = [p for p in network.params if data.get("update_biases", True) or p not in network.biases]
    state = {p: [0.0, 0.0] for p in trained}
    samples, mean = data["samples"], data.get("batch_loss", "mean") == "mean"
    for step, batch in enumerate(batches(data, steps), start=1):
        total = dict.fromkeys(network.params, 0.0)
        for index in batch:
            for key, value in network.gradients(samples[index]["inputs"], samples[index]["targets"]).items():
                total[key] += value
        for p in trained:
            g = total[p] / (len(batch) if mean else 1) + h["weight_decay"] * network.params[p]
            first, second = state[p]
            if name == "sgd":
                change = g
            elif name in ("momentum", "nesterov"):
                first = h["momentum"] * first + g
                change = first if name == "momentum" else g + h["momentum"] * first
            elif name == "rmsprop":
                second = h["alpha"] * second + (1 - h["alpha"]) * g * g
                change = g / (math.sqrt(second) + h["eps"])
            elif name == "adagrad":
                second = second + g * g
                change = g / (math.sqrt(second) + h["eps"])
            else:
                first = h["beta1"] * first + (1 - h["beta1"]) * g
                second = h["beta2"] * second + (1 - h["beta2"]) * g * g
                corrected = first / (1 - h["beta1"] ** step), second / (1 - h["beta2"] ** step)
                change = corrected[0] / (math.sqrt(corrected[1]) + h["eps"])
            state[p] = [first, second]
            network.params[p] -= lr * change
    losses = [network.loss(s["inputs"], s["targets"]) for s in samples]
    return (sum(losses) / len(losses) if mean else sum(losses)), dict(network.params)


def torch_run(data: dict, steps: int) -> tuple[float, dict[str, float]]:
    """The same network in PyTorch float64, trained by torch.optim's optimizer of the same name."""
    import torch
    network = NumpyNetwork(data)  # only for the parameter names, values and layout
    params = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
              for name, value in network.params.items()}
    trained = [params[p] for p in network.params if data.get("update_biases", True) or p not in network.biases]
    hyper = dict(data["optimizer"])
    name, lr = hyper.pop("name"), float(data["learning_rate"])
    decay = hyper.get("weight_decay", 0.0)
    optimizer = {
        "sgd": lambda: torch.optim.SGD(trained, lr=lr, weight_decay=decay),
        "momentum": lambda: torch.optim.SGD(trained, lr=lr, momentum=hyper.get("momentum", 0.9), weight_decay=decay),
        "nesterov": lambda: torch.optim.SGD(trained, lr=lr, momentum=hyper.get("momentum", 0.9), nesterov=True,
                                            weight_decay=decay),
        "rmsprop": lambda: torch.optim.RMSprop(trained, lr=lr, alpha=hyper.get("alpha", 0.99), weight_decay=decay),
        "adagrad": lambda: torch.optim.Adagrad(trained, lr=lr, weight_decay=decay),
        "adam": lambda: torch.optim.Adam(trained, lr=lr, betas=(hyper.get("beta1", 0.9), hyper.get("beta2", 0.999)),
                                         weight_decay=decay),
    }[name]()
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda x: x,
                 "leaky_relu": lambda x: torch.nn.functional.leaky_relu(x, 0.01),
                 "softplus": torch.nn.functional.softplus}

    def sample_loss(sample):
        values = torch.tensor([float(v) for v in sample["inputs"]], dtype=torch.float64)
        for activation, names, bias_names in network.layers:
            weights = torch.stack([torch.stack([params[n] for n in row]) for row in names])
            bias = torch.stack([params[n] if n else torch.tensor(0.0, dtype=torch.float64) for n in bias_names])
            net = weights @ values + bias
            values = torch.softmax(net, 0) if activation == "softmax" else functions[activation](net)
        o, t = values, torch.tensor([float(v) for v in sample["targets"]], dtype=torch.float64)
        terms = {"half_sse": lambda: 0.5 * (t - o) ** 2, "sse": lambda: (t - o) ** 2,
                 "mse": lambda: (t - o) ** 2 / len(o), "bce": lambda: -(t * torch.log(o) + (1 - t) * torch.log(1 - o)),
                 "cross_entropy": lambda: -t * torch.log(o)}[data["loss"]]()
        return terms.sum()

    mean = data.get("batch_loss", "mean") == "mean"
    for batch in batches(data, steps):
        optimizer.zero_grad()
        total = sum(sample_loss(data["samples"][index]) for index in batch)
        (total / len(batch) if mean else total).backward()
        optimizer.step()
    with torch.no_grad():
        losses = [float(sample_loss(s)) for s in data["samples"]]
    return (sum(losses) / len(losses) if mean else sum(losses)), {n: float(t.detach()) for n, t in params.items()}


def derive_run(data: dict, steps: int):
    return train(derive.derive(derive.load_text(yaml.safe_dump(data))), steps, every=5)


CASES = [(optimizer, seed) for optimizer in OPTIMIZERS for seed in range(4)]


@pytest.mark.parametrize("truth", ["torch", "numpy"])
@pytest.mark.parametrize("optimizer,seed", CASES)
def test_every_update_rule_trains_as_torch_optim_and_an_independent_numpy_network_do(optimizer, seed, truth):
    if truth == "torch":
        from conftest import require_module
        require_module("torch")
    data = random_network(random.Random(f"{optimizer}{seed}"), optimizer)
    run = derive_run(data, 12)
    loss, params = (torch_run if truth == "torch" else numpy_run)(data, 12)
    assert run.loss == pytest.approx(loss, rel=1e-9, abs=1e-13)
    for name, value in params.items():
        assert run.params[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_the_random_cases_cover_every_batch_mode_depth_and_activation():
    seen = {"batch": set(), "depth": set(), "activation": set(), "loss": set(), "samples": set()}
    for optimizer, seed in CASES:
        data = random_network(random.Random(f"{optimizer}{seed}"), optimizer)
        seen["batch"].add(str(data["batch"]))
        seen["depth"].add(len(data["layers"]))
        seen["activation"].update(layer["activation"] for layer in data["layers"])
        seen["loss"].add(data["loss"])
        seen["samples"].add(len(data["samples"]))
    assert seen["batch"] == {"full", "each", "1", "2"}
    assert seen["depth"] == {1, 2, 3, 4}
    assert seen["activation"] >= {*UNIT_WISE, "softmax"}
    assert seen["loss"] == {"half_sse", "sse", "mse", "bce", "cross_entropy"}
    assert max(seen["samples"]) > 2


def test_adams_document_follows_its_hyper_parameters():
    """The Adam step's document is derived: change β₁ and its figures move as Adam's formulas say."""
    runner = CliRunner()
    documents = {}
    for beta1 in ("0.9", "0.5"):
        result = runner.invoke(cli, ["run", "classic", "--optimizer", "adam", "--beta1", beta1, "-f", "json"])
        assert result.exit_code == 0, result.output
        documents[beta1] = result.output
    import json
    first, second = (json.loads(documents[b]) for b in ("0.9", "0.5"))
    # After one Adam step from zero state, m̂ = g and v̂ = g², so p⁺ = p − η g/(|g| + ε) whatever β₁ is ...
    trained = [name for name, trainable in first["trainable"].items() if trainable]
    assert trained
    for name in trained:
        value, g = first["parameters"][name], first["gradient"][name]
        expected = value - first["learning_rate"] * g / (abs(g) + 1e-8)
        assert first["updated"][name] == pytest.approx(expected, rel=1e-12)
        assert second["updated"][name] == pytest.approx(expected, rel=1e-12)
    # ... but m itself is (1 − β₁) g: the state after the update follows β₁.
    for name in trained:
        g = first["gradient"][name]
        assert first["state"][name]["m"] == pytest.approx(0.1 * g, rel=1e-12)
        assert second["state"][name]["m"] == pytest.approx(0.5 * g, rel=1e-12)
    text = runner.invoke(cli, ["run", "classic", "--optimizer", "adam", "--beta1", "0.5", "-f", "text"]).output
    assert "β₁" in text and "m̂" in text and "0.5·0 + (1 - 0.5)·" in text
    # t is the number of the update here, so the loss line writes the target in another letter.
    assert "t = target" not in text and "t is the number of the update" in text


def test_a_second_adam_step_uses_the_bias_correction_of_t_2():
    """Two updates of Adam against the formulas by hand: the second one's correction is 1 − β^2."""
    data = random_network(random.Random("two"), "adam")
    data.update(samples=data["samples"][:1], batch="full")
    loss, params = numpy_run(data, 2)
    run = derive_run(data, 2)
    for name, value in params.items():
        assert run.params[name] == pytest.approx(value, rel=1e-10, abs=1e-13)


def test_train_cli_takes_epochs_batch_and_optimizer(tmp_path):
    data = random_network(random.Random(5), "sgd")
    data["samples"] = data["samples"] * 2
    data["samples"] = data["samples"][:4]
    spec = tmp_path / "net.yaml"
    spec.write_text(yaml.safe_dump(data))
    runner = CliRunner()
    result = runner.invoke(cli, ["train", str(spec), "--epochs", "3", "--batch", "2", "--optimizer", "momentum",
                                 "--momentum", "0.8", "-f", "json"])
    assert result.exit_code == 0, result.output
    import json
    run = json.loads(result.output)
    assert run["steps"] == 3 * 2 and run["optimizer"] == "momentum"
    assert isinstance(run["outputs"], list) and len(run["outputs"]) == 4
    expected = dict(data, batch=2, optimizer={"name": "momentum", "momentum": 0.8})
    loss, params = numpy_run(expected, 6)
    assert run["loss"] == pytest.approx(loss, rel=1e-9)
    for args, message in ((["--steps", "3", "--epochs", "2"], "--steps N or --epochs E"),
                          (["--steps", "3", "--batch", "9"], "batch must be"),
                          (["--steps", "3", "--optimizer", "adam", "--momentum", "0.5"], "takes no 'momentum'"),
                          (["--steps", "3", "--beta1", "1"], "")):
        result = runner.invoke(cli, ["train", str(spec), *args])
        assert result.exit_code == 2 and "Traceback" not in result.output, (args, result.output)
        assert message in result.output


def test_run_derives_the_step_on_the_sample_asked_for(tmp_path):
    data = random_network(random.Random(8), "sgd")
    data["samples"] = [data["samples"][0], {"inputs": [0.25] * len(data["inputs"]),
                                            "targets": data["samples"][0]["targets"]}]
    spec = tmp_path / "net.yaml"
    spec.write_text(yaml.safe_dump(data))
    import json
    runner = CliRunner()
    for number in (1, 2):
        result = runner.invoke(cli, ["run", str(spec), "--sample", str(number), "-f", "json"])
        assert result.exit_code == 0, result.output
        document = json.loads(result.output)
        sample = data["samples"][number - 1]
        assert list(document["sample"]["inputs"].values()) == sample["inputs"]
        network = NumpyNetwork(data)
        assert document["loss"] == pytest.approx(network.loss(sample["inputs"], sample["targets"]), rel=1e-12)
    result = runner.invoke(cli, ["run", str(spec), "--sample", "3"])
    assert result.exit_code == 2 and "2 sample(s)" in result.output


CLASSIC_SAMPLE = "sample:\n  inputs: [0.05, 0.10]\n  targets: [0.01, 0.99]\n"


@pytest.mark.parametrize("change, message", [
    (lambda t: t + "samples:\n  - {inputs: [0.1, 0.2], targets: [0.5, 0.5]}\n", "not both"),
    (lambda t: t.replace(CLASSIC_SAMPLE, "samples: []\n"), "at least one sample"),
    (lambda t: t.replace(CLASSIC_SAMPLE, "samples:\n  - {inputs: [0.1], targets: [0.5, 0.5]}\n"),
     "samples[1].inputs"),
    (lambda t: t + "batch: 0\n", "batch must be full, each, or a mini-batch size from 1 to 1"),
    (lambda t: t + "batch_loss: max\n", "batch_loss must be one of mean, sum"),
    (lambda t: t + "seed: -1\n", "whole number"),
    (lambda t: t + "optimizer: lbfgs\n", "unknown update rule 'lbfgs'"),
    (lambda t: t + "optimizer: {name: adam, momentum: 0.9}\n", "takes no 'momentum'"),
    (lambda t: t + "optimizer: {name: adam, beta2: 1}\n", "beta2 must lie in [0, 1)"),
    (lambda t: t + "optimizer: {name: rmsprop, eps: 0}\n", "eps must lie in (0, ∞)"),
    (lambda t: t + "optimizer: {name: sgd, rate: 2}\n", "unknown hyper-parameter 'rate'"),
    (lambda t: t + "optimizer: {beta1: 0.5}\n", "missing 'name'"),
])
def test_bad_samples_batches_and_optimizers_are_one_line_errors(tmp_path, change, message):
    text = derive.examples.path("classic").read_text(encoding="utf-8")
    assert CLASSIC_SAMPLE in text
    spec = tmp_path / "net.yaml"
    spec.write_text(change(text), encoding="utf-8")
    for command in (["run", str(spec), "-o", str(tmp_path / "d.md")], ["train", str(spec), "--steps", "2"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
        assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "d.md").exists()


def test_the_spec_chooses_the_rule_and_the_options_override_it(tmp_path):
    text = derive.examples.path("classic").read_text(encoding="utf-8")
    spec = tmp_path / "net.yaml"
    spec.write_text(text + "optimizer: {name: momentum, momentum: 0.5}\n", encoding="utf-8")
    import json
    runner = CliRunner()
    own = json.loads(runner.invoke(cli, ["run", str(spec), "-f", "json"]).output)
    assert own["optimizer"] == {"name": "momentum", "momentum": 0.5, "weight_decay": 0.0}
    decayed = json.loads(runner.invoke(cli, ["run", str(spec), "--weight-decay", "0.1", "-f", "json"]).output)
    assert decayed["optimizer"] == {"name": "momentum", "momentum": 0.5, "weight_decay": 0.1}
    other = json.loads(runner.invoke(cli, ["run", str(spec), "--optimizer", "adam", "-f", "json"]).output)
    assert other["optimizer"]["name"] == "adam" and other["optimizer"]["beta1"] == 0.9
    # One momentum step from b = 0 is an SGD step; weight decay adds λ·p to each gradient.
    for name, trainable in own["trainable"].items():
        if trainable:
            p, g = own["parameters"][name], own["gradient"][name]
            assert own["updated"][name] == pytest.approx(p - 0.5 * g, rel=1e-12)
            assert decayed["updated"][name] == pytest.approx(p - 0.5 * (g + 0.1 * p), rel=1e-12)


def test_compare_trains_each_rule_and_draws_every_curve(tmp_path):
    import json
    from xml.etree import ElementTree
    data = random_network(random.Random("compare"), "sgd")
    data["optimizer"] = {"name": "sgd"}
    spec = tmp_path / "net.yaml"
    spec.write_text(yaml.safe_dump(data))
    runner = CliRunner()
    result = runner.invoke(cli, ["train", str(spec), "--steps", "10", "--every", "5", "--compare", "sgd,adam,nesterov",
                                 "--momentum", "0.5", "-f", "json", "--plot", str(tmp_path / "c.svg")])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)["compare"]
    assert [run["optimizer"] for run in runs] == ["sgd", "adam", "nesterov"]
    for run in runs:  # each as the NumPy network trains it (--momentum only for the rule that takes it)
        hyper = {"name": run["optimizer"], **({"momentum": 0.5} if run["optimizer"] == "nesterov" else {})}
        loss, params = numpy_run(dict(data, optimizer=hyper), 10)
        assert run["loss"] == pytest.approx(loss, rel=1e-9, abs=1e-13)
    svg = ElementTree.parse(tmp_path / "c.svg").getroot()
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 3 and len({line.get("style") for line in lines}) == 3
    labels = [text.text for text in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert {"gradient descent", "Adam", "gradient descent with Nesterov momentum"} <= set(labels)
    csv = runner.invoke(cli, ["train", str(spec), "--steps", "4", "--compare", "adam,sgd", "-f", "csv"]).output
    assert csv.splitlines()[0] == "step,adam,sgd" and len(csv.splitlines()) == 6
    text = runner.invoke(cli, ["train", str(spec), "--steps", "4", "--compare", "adam,sgd", "--lang", "zh"]).output
    assert "Adam" in text and "梯度下降" in text and "次更新后的损失" in text
    for bad in ("adam,adam", "sgd,lbfgs", ","):
        result = runner.invoke(cli, ["train", str(spec), "--steps", "4", "--compare", bad])
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    result = runner.invoke(cli, ["train", str(spec), "--steps", "4", "--compare", "sgd,adam", "--optimizer", "adam"])
    assert result.exit_code == 2 and "leave out --optimizer" in result.output


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_crosscheck_torch_reports_how_far_derive_is_from_torch(tmp_path, optimizer):
    import json
    from conftest import require_module
    require_module("torch")
    data = random_network(random.Random(f"cross{optimizer}"), optimizer)
    spec = tmp_path / "net.yaml"
    spec.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(cli, ["train", str(spec), "--steps", "8", "--crosscheck", "torch", "-f", "json"])
    assert result.exit_code == 0, result.output
    reported = json.loads(result.output)
    difference = reported["crosscheck"]["largest_relative_difference"]
    # The tests' own torch run of the same network: the difference reported is the one there is.
    loss, params = torch_run(data, 8)
    largest = max([abs(reported["loss"] - loss) / max(abs(loss), 1e-12)]
                  + [abs(reported["params"][n] - v) / max(abs(v), 1e-12) for n, v in params.items()])
    assert difference < 1e-9 and largest < 1e-9
    assert difference == pytest.approx(largest, abs=1e-13)


def test_crosscheck_refuses_what_torch_cannot_build(tmp_path):
    text = derive.examples.path("classic").read_text(encoding="utf-8").replace(
        "activation: sigmoid", "activation: x/(1+abs(x))", 1)
    spec = tmp_path / "net.yaml"
    spec.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["train", str(spec), "--steps", "2", "--crosscheck", "torch"])
    assert result.exit_code == 2 and "built-in activations and losses only" in result.output
    result = CliRunner().invoke(cli, ["train", "--steps", "2", "--crosscheck", "torch", "-f", "csv"])
    assert result.exit_code == 2 and "not in CSV" in result.output


def test_crosscheck_without_torch_says_how_to_install_it(monkeypatch, tmp_path):
    import sys
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails, as it does where it is absent
    result = CliRunner().invoke(cli, ["train", "classic", "--steps", "2", "--crosscheck", "torch",
                                      "-o", str(tmp_path / "run.json")])
    assert result.exit_code == 2 and "pip install 'derive[torch]'" in result.output
    assert not (tmp_path / "run.json").exists()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_precision_exact_runs_the_program_at_50_digits_and_agrees(tmp_path, optimizer):
    import json
    data = random_network(random.Random(f"exact{optimizer}"), optimizer)
    spec = tmp_path / "net.yaml"
    spec.write_text(yaml.safe_dump(data))
    runner = CliRunner()
    exact = json.loads(runner.invoke(cli, ["train", str(spec), "--steps", "6", "--precision", "exact", "-f", "json"]).output)
    floats = json.loads(runner.invoke(cli, ["train", str(spec), "--steps", "6", "-f", "json"]).output)
    loss, params = numpy_run(data, 6)
    assert exact["loss"] == pytest.approx(loss, rel=1e-10, abs=1e-14)
    assert exact["loss"] == pytest.approx(floats["loss"], rel=1e-12, abs=1e-15)
    for name, value in params.items():
        assert exact["params"][name] == pytest.approx(value, rel=1e-10, abs=1e-13), name
    result = runner.invoke(cli, ["train", str(spec), "--steps", "1001", "--precision", "exact"])
    assert result.exit_code == 2 and "at most 1000 updates" in result.output


def test_a_run_reports_its_progress_in_even_chunks():
    from derive.loop import run
    from derive.train import plan
    made = plan(derive.derive(derive.example("classic")))
    told = []
    run(made, 1234, progress=told.append)
    assert set(told) == {6} and sum(told) == 1230  # 1234 // 200 = 6 updates a report


def _check(*args):
    import json
    result = CliRunner().invoke(cli, ["check", *args, "-f", "json"])
    assert result.exit_code in (0, 1), result.output
    return [(claim["verdict"], claim) for claim in json.loads(result.output)["claims"]]


def test_claims_about_training_are_judged_against_pytorchs_run(reference):
    """E_after_10000 and out_o1_after_10000 of the classic example: ../shared/reference's PyTorch figures."""
    expected = reference["train_10000"]
    loss = f"{expected['loss']:.6g}"
    output = f"{expected['outputs']['o1']:.7g}"
    verdicts = _check("classic", "--claim", f"E_after_10000 = {loss}", "--claim", f"out_o1_after_10000 = {output}",
                      "--claim", f"E_after_10000 = {float(loss) * 1.01:.6g}")
    assert [v for v, _ in verdicts] == ["correct", "correct", "incorrect"]


def test_claims_about_training_follow_the_spec_and_the_optimizer(tmp_path):
    data = random_network(random.Random("claims"), "adam")
    spec = tmp_path / "net.yaml"
    spec.write_text(yaml.safe_dump(data))
    loss, params = numpy_run(data, 12)
    name, value = next(iter(params.items()))
    claims = ["--claim", f"E_after_12 = {loss:.8g}", "--claim", f"{name}_after_12 = {value:.8g}"]
    assert [v for v, _ in _check(str(spec), *claims)] == ["correct", "correct"]
    # Another update rule trains another way: the same figures are no longer right.
    assert [v for v, _ in _check(str(spec), "--optimizer", "sgd", *claims)] == ["incorrect", "incorrect"]
    # After 0 updates a quantity is its value at the start.
    start, = _check(str(spec), "--claim", f"{name}_after_0 = {data['layers'][0]['weights'][0][0]}")
    assert start[0] == "correct"
    too_many, = _check(str(spec), "--claim", "E_after_1000000 = 0.1")
    assert too_many[0] == "unreadable"
