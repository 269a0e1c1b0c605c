"""An independent, plain-Python model of a network file: forward pass and loss in floats.

It shares no code with `derive`: it reads the YAML itself and implements each
activation and loss directly, so gradients from `derive` can be checked against
central finite differences of this model.
"""
from __future__ import annotations

import math

import yaml

ACTIVATIONS = {
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
    "tanh": math.tanh,
    "relu": lambda x: max(0.0, x),
    "leaky_relu": lambda x: x if x > 0 else 0.01 * x,
    "identity": lambda x: x,
    "linear": lambda x: x,
    "softplus": lambda x: math.log1p(math.exp(x)),
    "x*tanh(log(1+exp(x)))": lambda x: x * math.tanh(math.log1p(math.exp(x))),
    "x/(1+abs(x))": lambda x: x / (1 + abs(x)),
}
LOSSES = {
    "half_sse": lambda o, t: 0.5 * (t - o) ** 2,
    "sse": lambda o, t: (t - o) ** 2,
    "mse": lambda o, t: (t - o) ** 2,
    "cross_entropy": lambda o, t: -t * math.log(o),
    "bce": lambda o, t: -(t * math.log(o) + (1 - t) * math.log(1 - o)),
    "(t-o)^4/4": lambda o, t: (t - o) ** 4 / 4,
}


class Model:
    def __init__(self, text: str):
        self.data = yaml.safe_load(text)
        self.params = {}
        self.layout = []  # per layer: (units, activation, weight names per row, bias names per unit)
        # Unnamed parameters are named as the README documents: w_<unit>_<source>, b_<unit>, b<layer>.
        previous = self.data["inputs"]
        for index, layer in enumerate(self.data["layers"], start=1):
            rows = []
            for r, row in enumerate(layer["weights"]):
                names = []
                for c, entry in enumerate(row):
                    name, value = next(iter(entry.items())) if isinstance(entry, dict) else (f"w_{layer['units'][r]}_{previous[c]}", entry)
                    self.params.setdefault(name, float(value))
                    names.append(name)
                rows.append(names)
            bias = layer.get("bias")
            if bias is None:
                biases = [None] * len(rows)
            elif isinstance(bias, list):
                biases = []
                for u, entry in enumerate(bias):
                    name, value = next(iter(entry.items())) if isinstance(entry, dict) else (f"b_{layer['units'][u]}", entry)
                    self.params.setdefault(name, float(value))
                    biases.append(name)
            else:
                name, value = next(iter(bias.items())) if isinstance(bias, dict) else (f"b{index}", bias)
                self.params.setdefault(name, float(value))
                biases = [name] * len(rows)
            self.layout.append((layer["units"], layer["activation"], rows, biases))
            previous = layer["units"]

    def forward(self, params=None, override=None, inputs=None):
        """Return (output values, unit -> (net, out)); `override` maps ("net" or "out", unit) to a value
        used instead of the one computed (a node held at a value of its own), `inputs` name -> value."""
        params, override = params or self.params, override or {}
        values = [float(v) for v in self.data["sample"]["inputs"]]
        if inputs:
            values = [inputs.get(name, value) for name, value in zip(self.data["inputs"], values)]
        outs = {}
        for units, activation, rows, biases in self.layout:
            nets = [sum(params[w] * v for w, v in zip(row, values)) + (params[b] if b else 0.0)
                    for row, b in zip(rows, biases)]
            nets = [override.get(("net", unit), net) for unit, net in zip(units, nets)]
            if activation == "softmax":
                top = max(nets)
                exps = [math.exp(n - top) for n in nets]
                values = [e / sum(exps) for e in exps]
            else:
                values = [ACTIVATIONS[activation](n) for n in nets]
            values = [override.get(("out", unit), out) for unit, out in zip(units, values)]
            for unit, net, out in zip(units, nets, values):
                outs[unit] = (net, out)
        return values, outs

    def quantities(self, params=None, override=None, inputs=None):
        """Return every forward quantity: ("net", unit), ("out", unit), ("loss_term", output unit), ("loss",)."""
        outputs, outs = self.forward(params, override, inputs)
        found = {(kind, unit): pair[index] for unit, pair in outs.items() for index, kind in enumerate(("net", "out"))}
        name, targets = self.data["loss"], [float(t) for t in self.data["sample"]["targets"]]
        scale = 1 / len(outputs) if name == "mse" else 1
        for unit, o, t in zip(self.layout[-1][0], outputs, targets):
            found[("loss_term", unit)] = scale * LOSSES[name](o, t)
        found[("loss",)] = sum(found[("loss_term", unit)] for unit in self.layout[-1][0])
        return found

    def node_difference(self, top, bottom, step=1e-6):
        """Central difference of quantity `top` with respect to `bottom`: ("param", name), ("input", name), or
        ("net"|"out", unit) held at a value of its own."""
        def at(shift):
            params, override, inputs = dict(self.params), {}, {}
            if bottom[0] == "param":
                params[bottom[1]] += shift
            elif bottom[0] == "input":
                index = self.data["inputs"].index(bottom[1])
                inputs[bottom[1]] = float(self.data["sample"]["inputs"][index]) + shift
            else:
                override[bottom] = self.quantities()[bottom] + shift
            return self.quantities(params, override, inputs)[top]
        return (at(step) - at(-step)) / (2 * step)

    def loss(self, params=None):
        outputs, _ = self.forward(params)
        targets = [float(t) for t in self.data["sample"]["targets"]]
        name = self.data["loss"]
        total = sum(LOSSES[name](o, t) for o, t in zip(outputs, targets))
        return total / len(outputs) if name == "mse" else total

    def finite_difference(self, name, step=1e-6):
        up, down = dict(self.params), dict(self.params)
        up[name] += step
        down[name] -= step
        return (self.loss(up) - self.loss(down)) / (2 * step)
