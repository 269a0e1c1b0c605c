"""Networks named as published tutorials name them: x, y, o, out, t, net, target, e.

Each network is written here as YAML with numbers of our own. Its figures are
checked against PyTorch float64 autograd (a model built here from the same YAML,
sharing nothing with derive) and against tests/reference_model.py; it is rendered
in every format and both notations; claims written with the tutorial names are
judged against PyTorch's numbers; names a claim would read two ways are refused.
"""
from __future__ import annotations

import functools
import json
import math
import re

import pytest
import yaml
from click.testing import CliRunner

import derive
from conftest import require_module
from derive.check import check
from derive.cli import cli
from reference_model import Model

# (a) the 2-2-2 tutorial network: inputs x, t; hidden y, net; outputs o, out. Carries the descriptive keys.
A = """\
title: Tutorial names
source: https://example.org/backprop-by-hand
description: A 2-2-2 network named as in the tutorial
author: A. Teacher
x-course: CS 101
inputs: [x, t]
layers:
  - units: [y, net]
    activation: sigmoid
    weights:
      - [{w1: 0.12}, {w2: -0.31}]
      - [{w3: 0.27}, {w4: 0.44}]
    bias: {b1: 0.21}
  - units: [o, out]
    activation: sigmoid
    weights:
      - [{w5: 0.53}, {w6: -0.18}]
      - [{w7: 0.36}, {w8: 0.62}]
    bias: {b2: -0.14}
loss: half_sse
sample:
  inputs: [0.3, -0.7]
  targets: [0.2, 0.85]
learning_rate: 0.4
"""

# (b) hidden units named e and target (tanh), one identity output named out, mean squared error.
B = """\
inputs: [x]
layers:
  - units: [e, target]
    activation: tanh
    weights:
      - [{w1: 0.8}]
      - [{w2: -0.45}]
    bias: [{b1: 0.1}, {b2: -0.25}]
  - units: [out]
    activation: identity
    weights:
      - [{w3: 0.7}, {w4: -1.1}]
    bias: {c: 0.05}
loss: mse
sample:
  inputs: [0.9]
  targets: [0.6]
learning_rate: 0.1
"""

# (b') an input named e and a parameter named t; sigmoid hidden units, so exp appears in the documents.
B_E = """\
inputs: [e, x]
layers:
  - units: [h, o]
    activation: sigmoid
    weights:
      - [{t: 0.35}, {w1: -0.6}]
      - [{w2: 0.55}, {w3: 0.25}]
  - units: [out]
    activation: identity
    weights:
      - [{w4: 0.9}, {w5: -0.4}]
    bias: {b: 0.15}
loss: mse
sample:
  inputs: [1.5, -0.4]
  targets: [0.3]
learning_rate: 0.2
"""

# (c) inputs x, y; a softmax output layer of units o and t; cross-entropy with one-hot targets; biases kept.
C = """\
inputs: [x, y]
layers:
  - units: [h1, h2]
    activation: tanh
    weights:
      - [{w1: 0.4}, {w2: -0.7}]
      - [{w3: 0.9}, {w4: 0.2}]
    bias: {b1: 0.05}
  - units: [o, t]
    activation: softmax
    weights:
      - [{v1: 1.2}, {v2: -0.3}]
      - [{v3: -0.8}, {v4: 0.6}]
    bias: [{c1: 0.1}, {c2: -0.2}]
loss: cross_entropy
sample:
  inputs: [0.5, 1.25]
  targets: [0, 1]
learning_rate: 0.3
update_biases: false
"""

# (d) three layers: relu units o, out, then net, x; a sigmoid output y; bare-number weights, per-unit biases.
D = """\
inputs: [i1, i2]
layers:
  - units: [o, out]
    activation: relu
    weights:
      - [0.6, -0.2]
      - [0.3, 0.8]
    bias: [0.1, -0.15]
  - units: [net, x]
    activation: relu
    weights:
      - [0.5, 0.7]
      - [-0.9, 0.4]
    bias: [0.2, 0.5]
  - units: [y]
    activation: sigmoid
    weights:
      - [1.1, -0.6]
    bias: [-0.05]
loss: half_sse
sample:
  inputs: [0.7, 0.35]
  targets: [0.9]
learning_rate: 0.25
"""

NETWORKS = {"tutorial_2_2_2": A, "e_and_target": B, "input_e": B_E, "softmax_o_t": C, "relu_3_layers": D}
FORMATS = ["md", "tex", "html", "text", "json"]
NOTATIONS = ["named", "index"]


@functools.lru_cache(maxsize=None)
def derived(name: str):
    return derive.derive(derive.load_text(NETWORKS[name]))


@functools.lru_cache(maxsize=None)
def rendered(name: str, fmt: str, notation: str) -> str:
    return derived(name).render(fmt, notation=notation)


# --- an independent float64 model, read from the YAML above ------------------------------------

def layout(text: str):
    """Return (data, params, layers): parameter values by name and, per layer, (units, activation,
    weight names per row, bias name per unit), naming bare numbers as the README documents."""
    data = yaml.safe_load(text)
    params, layers, previous = {}, [], data["inputs"]

    def named(entry, default):
        name, value = next(iter(entry.items())) if isinstance(entry, dict) else (default, entry)
        params.setdefault(name, float(value))
        return name

    for index, layer in enumerate(data["layers"], start=1):
        units = layer["units"]
        rows = [[named(entry, f"w_{units[r]}_{previous[c]}") for c, entry in enumerate(row)]
                for r, row in enumerate(layer["weights"])]
        bias = layer.get("bias")
        if bias is None:
            biases = [None] * len(units)
        elif isinstance(bias, list):
            biases = [named(entry, f"b_{units[u]}") for u, entry in enumerate(bias)]
        else:
            biases = [named(bias, f"b{index}")] * len(units)
        layers.append((units, layer["activation"], rows, biases))
        previous = units
    return data, params, layers


def torch_figures(text: str) -> dict:
    """Forward pass, loss, δ, gradients, update and loss after the update by PyTorch float64 autograd."""
    torch = require_module("torch")
    data, values, layers = layout(text)
    f64 = torch.float64
    activations = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}

    def forward(params):
        current = [torch.tensor(float(v), dtype=f64) for v in data["sample"]["inputs"]]
        nets, outs = {}, {}
        for units, activation, rows, biases in layers:
            layer_nets = []
            for unit, row, bias in zip(units, rows, biases):
                net = sum(params[w] * v for w, v in zip(row, current))
                if bias is not None:
                    net = net + params[bias]
                if net.requires_grad:
                    net.retain_grad()
                nets[unit] = net
                layer_nets.append(net)
            if activation == "softmax":
                current = list(torch.softmax(torch.stack(layer_nets), 0))
            else:
                current = [activations[activation](net) for net in layer_nets]
            outs.update(zip(units, current))
        targets = [float(t) for t in data["sample"]["targets"]]
        terms = {"half_sse": lambda o, t: 0.5 * (t - o) ** 2, "mse": lambda o, t: (t - o) ** 2,
                 "cross_entropy": lambda o, t: -t * torch.log(o)}[data["loss"]]
        loss = sum(terms(o, t) for o, t in zip(current, targets))
        if data["loss"] == "mse":
            loss = loss / len(current)
        return nets, outs, loss

    params = {name: torch.tensor(value, dtype=f64, requires_grad=True) for name, value in values.items()}
    nets, outs, loss = forward(params)
    loss.backward()
    gradient = {name: p.grad.item() for name, p in params.items()}
    rate = float(data["learning_rate"])
    bias_names = {b for _, _, _, biases in layers for b in biases if b}
    frozen = bias_names if data.get("update_biases") is False else set()
    updated = {name: value if name in frozen else value - rate * gradient[name] for name, value in values.items()}
    with torch.no_grad():
        nets_after, outs_after, loss_after = forward({n: torch.tensor(v, dtype=f64) for n, v in updated.items()})
    return {
        "forward": {u: {"net": nets[u].item(), "out": outs[u].item()} for u in nets},
        "loss": loss.item(),
        "delta": {u: nets[u].grad.item() for u in nets},
        "gradient": gradient,
        "updated": updated,
        "loss_after_update": loss_after.item(),
        "forward_after_update": {u: {"net": nets_after[u].item(), "out": outs_after[u].item()} for u in nets_after},
    }


@functools.lru_cache(maxsize=None)
def truth(name: str) -> dict:
    return torch_figures(NETWORKS[name])


def names_of(text: str) -> set[str]:
    data, params, layers = layout(text)
    return set(data["inputs"]) | {u for units, *_ in layers for u in units} | set(params)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def test_the_networks_use_the_tutorial_names():
    a, b, b_e, c, d = (names_of(NETWORKS[n]) for n in NETWORKS)
    assert {"x", "t", "y", "net", "o", "out"} <= a
    assert {"x", "e", "target", "out"} <= b
    assert {"e", "t", "x", "o", "out"} <= b_e
    assert {"x", "y", "o", "t"} <= c
    assert {"o", "out", "net", "x"} <= d
    for text in NETWORKS.values():  # names are unique across each network
        data, params, layers = layout(text)
        every = list(data["inputs"]) + [u for units, *_ in layers for u in units] + list(params)
        assert len(every) == len(set(every))


# --- 2. figures: derive = PyTorch float64 autograd = the float reference model -----------------------

@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_figures_equal_pytorch(name):
    data = derived(name).to_data()
    expected = truth(name)
    assert set(data["forward"]) == set(expected["forward"])
    for unit, figures in expected["forward"].items():
        for kind in ("net", "out"):
            assert close(data["forward"][unit][kind], figures[kind]), (unit, kind, data["forward"][unit], figures)
    assert close(data["loss"], expected["loss"])
    assert set(data["delta"]) == set(expected["delta"])
    for unit, delta in expected["delta"].items():
        assert close(data["delta"][unit], delta), (unit, data["delta"][unit], delta)
    assert set(data["gradient"]) == set(expected["gradient"])
    for parameter, gradient in expected["gradient"].items():
        assert close(data["gradient"][parameter], gradient), (parameter, data["gradient"][parameter], gradient)
    assert set(data["updated"]) == set(expected["updated"])
    for parameter, value in expected["updated"].items():
        assert close(data["updated"][parameter], value), (parameter, data["updated"][parameter], value)
    assert close(data["loss_after_update"], expected["loss_after_update"])
    for unit, figures in expected["forward_after_update"].items():
        for kind in ("net", "out"):
            assert close(data["forward_after_update"][unit][kind], figures[kind]), (unit, kind)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_figures_equal_the_reference_model(name):
    model = Model(NETWORKS[name])
    data = derived(name).to_data()
    _, outs = model.forward()
    assert set(outs) == set(data["forward"])
    for unit, (net, out) in outs.items():
        assert close(data["forward"][unit]["net"], net) and close(data["forward"][unit]["out"], out), unit
    assert close(data["loss"], model.loss())
    assert set(model.params) == set(data["gradient"])
    for parameter in model.params:
        assert math.isclose(data["gradient"][parameter], model.finite_difference(parameter),
                            rel_tol=1e-6, abs_tol=1e-9), parameter
    assert close(data["loss_after_update"], model.loss(dict(data["updated"])))


# --- 3. documents in every format and both notations --------------------------------------------------

@pytest.mark.parametrize("notation", NOTATIONS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_every_format_and_notation_renders(name, fmt, notation):
    document = rendered(name, fmt, notation)
    assert document.strip()
    data, _, layers = layout(NETWORKS[name])
    units = [u for layer_units, *_ in layers for u in layer_units]
    if fmt == "json":
        parsed = json.loads(document)
        assert set(parsed["forward"]) == set(units)
    elif fmt == "html":
        assert "<math" in document and "<svg" in document
    elif fmt == "text" and notation == "named":
        for unit in units:
            assert f"net_{unit} = " in document and f"out_{unit} = " in document, unit


@pytest.mark.parametrize("fmt", ["md", "tex"])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_named_notation_writes_unit_names_as_subscripts(name, fmt):
    data, params, layers = layout(NETWORKS[name])
    named = rendered(name, fmt, "named")
    index = rendered(name, fmt, "index")
    outputs = layers[-1][0]
    for position, unit in enumerate((u for units, *_ in layers for u in units), start=len(data["inputs"]) + 1):
        for word in ("net", "out"):
            assert rf"\mathrm{{{word}}}_{{{unit}}}" in named, (word, unit)
            assert rf"\mathrm{{{word}}}_{{{unit}}}" not in index, (word, unit)
            assert rf"\mathrm{{{word}}}_{{{position}}}" in index, (word, unit, position)
        assert rf"\delta_{{{unit}}}" in named, unit
    for unit in outputs:
        assert rf"\mathrm{{target}}_{{{unit}}}" in named, unit
    for input_name in (i for i in data["inputs"] if i.isalpha()):  # a bare letter or word, as written
        assert re.search(rf"(?<![\\\w{{]){re.escape(input_name)}(?![\w}}])", named), input_name


def given_block(document: str, fmt: str) -> str:
    start = {"md": "## The network and the given values", "tex": r"\section*{The network and the given values}",
             "text": "The network and the given values"}[fmt]
    end = {"md": "\n## 1.", "tex": "\\section{", "text": "\n1. "}[fmt]
    assert start in document
    return document.split(start, 1)[1].split(end, 1)[0]


@pytest.mark.parametrize("notation", NOTATIONS)
@pytest.mark.parametrize("fmt", ["md", "tex", "text"])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_definitions_in_the_given_block_do_not_use_the_networks_names(name, fmt, notation):
    names = names_of(NETWORKS[name])
    block = given_block(rendered(name, fmt, notation), fmt)
    # An activation is defined as f(z) = ...; its variable must not be a name of the network (here always x).
    variables = re.findall(r"\((\w+)\)\s*=", block)
    assert variables, block
    assert "x" in names
    for variable in variables:
        assert variable not in names, (variable, block)
    # The loss is written in two letters standing for out_k and target_k; neither may be a name of the network.
    # (in index notation target_k is t_k).
    letters = (re.findall(r"(\w) = \\?(?:mathrm\{)?out\}?_\{?k\}?", block)
               + re.findall(r"(\w) = \\?(?:mathrm\{)?(?:target|t)\}?_\{?k\}?", block))
    assert len(letters) == 2, block
    for letter in letters:
        assert letter not in names, (letter, block)


@pytest.mark.parametrize("fmt", ["md", "tex"])
@pytest.mark.parametrize("name", [n for n in sorted(NETWORKS) if "e" in names_of(NETWORKS[n])])
def test_exp_is_written_exp_where_the_network_names_e(name, fmt):
    document = rendered(name, fmt, "named")
    assert "e^{" not in document
    if name == "input_e":  # sigmoid units: the exponential is there, written \exp
        assert r"\exp" in document


def test_exp_is_written_as_a_power_of_e_otherwise():
    assert "e" not in names_of(A)
    assert "e^{" in rendered("tutorial_2_2_2", "tex", "named")


# --- 4. claims in the tutorial names, judged against PyTorch's numbers -------------------------------

def n(value: float, digits: int = 6) -> str:
    """The value to `digits` significant digits, as a student writes it."""
    return f"{value:.{digits}g}"


def claims_tutorial(f):
    out, fwd, delta, grad, new = f["forward"], f["forward"], f["delta"], f["gradient"], f["updated"]
    correct = [
        "net_net = w3*x + w4*t + b1",
        r"\mathrm{net}_{net} = w_{3} x + w_{4} t + b_{1}",
        "net_y = w1 x + w2 t + b1",
        f"net_net = {fwd['net']['net']:.4f}",
        f"out_out = {out['out']['out']:.4f}",
        rf"\mathrm{{out}}_{{out}} = {out['out']['out']:.4f}",
        "out_out = sigmoid(net_out)",
        r"\mathrm{out}_{net} = \frac{1}{1 + e^{-\mathrm{net}_{net}}}",
        "delta_o = (out_o - t_o)*out_o*(1 - out_o)",
        "delta_o = (out_o - target_o)*out_o*(1 - out_o)",
        r"\delta_{o} = \left(\mathrm{out}_{o} - t_{o}\right) \mathrm{out}_{o} \left(1 - \mathrm{out}_{o}\right)",
        "δ_o = (out_o − t_o)·out_o·(1 − out_o)",
        "delta_out = (out_out - target_out) out_out (1 - out_out)",
        f"delta_out = {n(delta['out'])}",
        rf"\delta_{{net}} = {n(delta['net'])}",
        "delta_y = (delta_o*w5 + delta_out*w7)*out_y*(1 - out_y)",
        "delta_net = (delta_o*w6 + delta_out*w8)*out_net*(1 - out_net)",
        r"\frac{\partial E}{\partial \mathrm{net}_{net}} = \delta_{net}",
        "target_out = 0.85", "t_out = 0.85", r"\mathrm{target}_{out} = 0.85", "t_o = 0.2",
        "x = 0.3", "t = -0.7",
        "dE/dw1 = delta_y*x",
        r"\frac{\partial E}{\partial w_{1}} = \delta_{y} x",
        "∂E/∂w1 = δ_y·x",
        "dE/dw4 = delta_net*t",
        "dE/dw8 = delta_out*out_net",
        "dE/db1 = delta_y + delta_net",
        f"dE/dw1 = {grad['w1']:.5e}",
        f"dE/dw8 = {n(grad['w8'])}",
        "dE/dout_out = out_out - t_out",
        f"E = {n(f['loss'])}",
        rf"E_{{total}} = {f['loss']:.4f}",
        "E = 1/2*(t_o - out_o)^2 + 1/2*(t_out - out_out)^2",
        r"E_{out} = \frac{1}{2}\left(t_{out} - \mathrm{out}_{out}\right)^{2}",
        "w5_new = w5 - eta*dE/dw5",
        r"w_{5}^{+} = w_{5} - \eta \frac{\partial E}{\partial w_{5}}",
        "w5⁺ = w5 − η·∂E/∂w5",
        f"w5_new = {new['w5']:.8f}",
        f"b1_new = {n(new['b1'])}",
        f"E_new = {n(f['loss_after_update'])}",
        f"out_out_new = {n(f['forward_after_update']['out']['out'])}",
    ]
    incorrect = [
        "net_net = w3*x + w4*t",                      # bias left out
        "net_net = w3*t + w4*x",                      # the two inputs swapped
        f"out_out = {out['out']['out'] + 3e-4:.4f}",
        rf"\mathrm{{out}}_{{out}} = {out['out']['out'] + 3e-4:.4f}",
        "out_out = sigmoid(net_net)",
        "delta_o = (t_o - out_o)*out_o*(1 - out_o)",
        r"\delta_{o} = \left(t_{o} - \mathrm{out}_{o}\right) \mathrm{out}_{o} \left(1 - \mathrm{out}_{o}\right)",
        "delta_o = (out_o - t_out)*out_o*(1 - out_o)",  # the other unit's target
        "delta_y = (delta_o*w5 + delta_out*w6)*out_y*(1 - out_y)",
        "target_out = 0.86",
        "t = 0.7",
        "dE/dw1 = delta_y*t",
        "dE/dw1 = delta_net*x",
        r"\frac{\partial E}{\partial w_{1}} = \delta_{y} t",
        f"dE/dw8 = {n(grad['w8'] * 1.01)}",
        f"E = {n(f['loss'] * 1.01)}",
        "w5_new = w5 + eta*dE/dw5",
        r"w_{5}^{+} = w_{5} + \eta \frac{\partial E}{\partial w_{5}}",
        f"E_new = {n(f['loss'])}",                     # the loss before the update
    ]
    return correct, incorrect


def claims_e_and_target(f):
    fwd, delta, grad, new = f["forward"], f["delta"], f["gradient"], f["updated"]
    correct = [
        "net_e = w1*x + b1", "net_target = w2*x + b2",
        "out_e = tanh(net_e)", r"\mathrm{out}_{target} = \tanh(\mathrm{net}_{target})",
        "out_e = (e^(net_e) - e^(-net_e))/(e^(net_e) + e^(-net_e))",   # no input named e: e is the constant
        f"out_e = {fwd['e']['out']:.5f}", f"out_target = {n(fwd['target']['out'])}",
        "net_out = w3*out_e + w4*out_target + c",
        f"out_out = {fwd['out']['out']:.4f}",
        "delta_out = 2*(out_out - target_out)",
        "delta_e = delta_out*w3*(1 - out_e^2)",
        r"\delta_{target} = \delta_{out} w_{4} \left(1 - \mathrm{out}_{target}^{2}\right)",
        f"delta_target = {delta['target']:.5e}",
        "t_out = 0.6", r"\mathrm{target}_{out} = 0.6",
        "E = (target_out - out_out)^2",
        f"E = {n(f['loss'])}",
        "dE/dw2 = delta_target*x", "dE/db1 = delta_e", "dE/dc = delta_out",
        f"dE/dw4 = {n(grad['w4'])}",
        "c_new = c - eta*delta_out",
        f"w1_new = {n(new['w1'])}",
        f"E_new = {n(f['loss_after_update'])}",
    ]
    incorrect = [
        "out_e = tanh(net_target)",
        "delta_out = out_out - target_out",          # the mean of one square is the square: no ½
        "delta_e = delta_out*w3",                     # f'(net) left out
        "delta_e = delta_out*w4*(1 - out_e^2)",
        "dE/dw2 = delta_e*x",
        f"out_e = {fwd['e']['out'] + 2e-5:.5f}",
        f"delta_target = {-delta['target']:.5e}",
        "c_new = c + eta*delta_out",
    ]
    return correct, incorrect


def claims_input_e(f):
    fwd, delta, grad, new = f["forward"], f["delta"], f["gradient"], f["updated"]
    correct = [
        "e = 1.5", "t = 0.35", "x = -0.4",
        "net_h = t*e + w1*x", r"\mathrm{net}_{h} = t e + w_{1} x",
        "net_o = w2*e + w3*x",
        f"net_h = {fwd['h']['net']:.4f}",
        "out_h = 1/(1 + exp(-net_h))", r"\mathrm{out}_{h} = \frac{1}{1 + \exp\left(-\mathrm{net}_{h}\right)}",
        f"out_o = {n(fwd['o']['out'])}",
        "delta_out = 2*(out_out - t_out)",           # t_out is the target of unit out, not the parameter t
        "E = (t_out - out_out)^2",
        r"E_{total} = \left(t_{out} - \mathrm{out}_{out}\right)^{2}",
        "delta_h = delta_out*w4*out_h*(1 - out_h)",
        f"delta_h = {delta['h']:.5e}",
        "dE/dt = delta_h*e", r"\frac{\partial E}{\partial t} = \delta_{h} e", "∂E/∂t = δ_h·e",
        f"dE/dt = {grad['t']:.5e}",
        "t_new = t - eta*delta_h*e", r"t^{+} = t - \eta \frac{\partial E}{\partial t}",
        f"t_new = {new['t']:.8f}",
        f"E_new = {n(f['loss_after_update'])}",
    ]
    incorrect = [
        "out_h = 1/(1 + e^(-net_h))",                 # e is the input (1.5), not the constant
        r"\mathrm{out}_{h} = \frac{1}{1 + e^{-\mathrm{net}_{h}}}",
        "net_h = t*x + w1*e",
        "e = 2.718",
        "dE/dt = delta_h*x",
        "dE/dt = delta_o*e",
        "t_new = t + eta*dE/dt",
        f"t_new = {new['t'] + 1e-5:.8f}",
    ]
    return correct, incorrect


def claims_softmax(f):
    fwd, delta, grad = f["forward"], f["delta"], f["gradient"]
    correct = [
        "net_t = v3*out_h1 + v4*out_h2 + c2", "net_o = v1*out_h1 + v2*out_h2 + c1",
        "out_t = exp(net_t)/(exp(net_o) + exp(net_t))",
        f"out_t = {fwd['t']['out']:.5f}", rf"\mathrm{{out}}_{{o}} = {fwd['o']['out']:.5f}",
        "delta_t = out_t - t_t",
        f"delta_t = {delta['t']:.5e}", rf"\delta_{{o}} = {n(delta['o'])}",
        "t_t = 1", "target_o = 0", r"t_{t} = 1", "x = 0.5", "y = 1.25",
        "E = -(t_o*ln(out_o) + t_t*ln(out_t))", "E_t = -t_t*ln(out_t)",
        f"E = {n(f['loss'])}",
        "dE/dw2 = delta_h1*y", "dE/dv4 = delta_t*out_h2",
        "delta_h1 = (delta_o*v1 + delta_t*v3)*(1 - out_h1^2)",
        f"dE/dv3 = {grad['v3']:.5e}",
        "c2_new = c2",                                   # update_biases: false
        f"v3_new = {n(f['updated']['v3'])}",
        f"E_new = {n(f['loss_after_update'])}",
    ]
    incorrect = [
        f"delta_t = {-delta['t']:.5e}",
        "out_t = exp(net_o)/(exp(net_o) + exp(net_t))",
        "dE/dw2 = delta_h1*x",
        "delta_h1 = (delta_o*v1 + delta_t*v2)*(1 - out_h1^2)",
        "E = -ln(out_o)",
        "t_t = 0",
        f"c2_new = {n(-0.2 - 0.3 * grad['c2'])}",          # the bias is not updated in this network
    ]
    return correct, incorrect


def claims_relu(f):
    fwd, delta, grad, new = f["forward"], f["delta"], f["gradient"], f["updated"]
    assert all(figures["net"] > 0.1 for unit, figures in fwd.items() if unit != "y")  # every relu unit active
    correct = [
        "net_o = w_o_i1*i1 + w_o_i2*i2 + b_o",
        "net_x = w_x_o*out_o + w_x_out*out_out + b_x",
        r"\mathrm{net}_{x} = w_{x,o} \mathrm{out}_{o} + w_{x,out} \mathrm{out}_{out} + b_{x}",
        "net_net = w_net_o*out_o + w_net_out*out_out + b_net",
        "out_x = max(0, net_x)", "out_out = relu(net_out)",
        f"out_out = {fwd['out']['out']:.4f}", f"net_x = {fwd['x']['net']:.4f}", f"out_net = {n(fwd['net']['out'])}",
        "delta_y = (out_y - t_y)*out_y*(1 - out_y)",
        "delta_net = delta_y*w_y_net",
        "delta_o = (delta_net*w_net_o + delta_x*w_x_o)*f'(net_o)",
        r"\delta_{out} = \left(\delta_{net} w_{net,out} + \delta_{x} w_{x,out}\right)",
        f"delta_out = {delta['out']:.5e}", rf"\delta_{{x}} = {n(delta['x'])}",
        "dE/dw_net_out = delta_net*out_out", "dE/db_x = delta_x", "dE/dw_y_x = delta_y*out_x",
        f"dE/dw_o_i1 = {grad['w_o_i1']:.5e}",
        "w_x_o_new = w_x_o - eta*delta_x*out_o",
        f"b_o_new = {n(new['b_o'])}",
        f"E = {n(f['loss'])}", f"E_new = {n(f['loss_after_update'])}",
    ]
    incorrect = [
        "net_x = w_x_o*out_o + w_x_out*out_out",
        "net_x = w_x_o*out_out + w_x_out*out_o + b_x",
        "delta_o = delta_net*w_net_o*f'(net_o)",        # the sum over k left out
        "delta_o = delta_net*w_net_out + delta_x*w_x_out",
        "dE/dw_net_out = delta_net*out_o",
        "dE/db_x = delta_net",
        f"out_out = {fwd['out']['out'] + 3e-4:.4f}",
        f"dE/dw_o_i1 = {-grad['w_o_i1']:.5e}",
    ]
    return correct, incorrect


CLAIMS = {"tutorial_2_2_2": claims_tutorial, "e_and_target": claims_e_and_target, "input_e": claims_input_e,
          "softmax_o_t": claims_softmax, "relu_3_layers": claims_relu}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_claims_in_the_tutorial_names(name):
    correct, incorrect = CLAIMS[name](truth(name))
    verdicts = check(derived(name), correct + incorrect)
    expected = ["correct"] * len(correct) + ["incorrect"] * len(incorrect)
    wrong = [(v.claim, v.verdict, v.message) for v, want in zip(verdicts, expected) if v.verdict != want]
    assert not wrong, "\n".join(f"{claim!r}: {verdict} ({message})" for claim, verdict, message in wrong)


def test_classic_mistakes_are_named_in_the_tutorial_names():
    verdicts = check(derived("tutorial_2_2_2"), [
        "delta_o = (t_o - out_o)*out_o*(1 - out_o)",
        "delta_o = out_o - t_o",
        "dE/dw5 = delta_o*net_y",
        "w5_new = w5 + eta*dE/dw5",
        "delta_y = (delta_o*w5 + delta_out*w6)*out_y*(1 - out_y)",
    ])
    assert [v.diagnosis.mistake if v.diagnosis else None for v in verdicts] == [
        "sign_flipped", "derivative_left_out", "net_for_out", "update_added", "transposed_weights"]


def test_updated_parameter_in_latex_with_new_superscript():
    # The README's claim table lists w_5^{new} beside w_5^{+} for "P after one update".
    f = truth("tutorial_2_2_2")
    verdicts = check(derived("tutorial_2_2_2"), [
        r"w_{5}^{new} = w_{5} - \eta \frac{\partial E}{\partial w_{5}}",
        rf"w_5^{{new}} = {f['updated']['w5']:.6f}",
    ])
    assert [v.verdict for v in verdicts] == ["correct", "correct"], [(v.claim, v.message) for v in verdicts]


# --- 5. descriptive keys -----------------------------------------------------------------------------

def test_descriptive_keys_are_read_and_shown():
    spec_text = A.replace("x-course: CS 101", "x-course: {code: CS 101, weeks: [3, 4]}\nx-reviewed: true")
    derivation = derive.derive(derive.load_text(spec_text))
    for fmt in ("md", "html", "text"):
        document = derivation.render(fmt)
        for text in ("A 2-2-2 network named as in the tutorial", "https://example.org/backprop-by-hand", "A. Teacher"):
            assert text in document, (fmt, text)


def test_descriptive_text_is_escaped():
    hostile = "<img src=x onerror=alert(1)>"
    spec_text = (A.replace("description: A 2-2-2 network named as in the tutorial",
                           f"description: 'Weights & biases {hostile}'")
                 .replace("author: A. Teacher", "author: 'Ann <b>Teacher</b>'")
                 .replace("source: https://example.org/backprop-by-hand", "source: '<script>alert(2)</script>'"))
    derivation = derive.derive(derive.load_text(spec_text))
    html = derivation.render("html")
    md = derivation.render("md")
    for document in (html, md):
        assert hostile not in document
        assert "<img" not in document and "<script" not in document and "<b>" not in document
        assert "&lt;img src=x onerror=alert(1)&gt;" in document
    assert "Weights &amp; biases" in html
    assert "Ann &lt;b&gt;Teacher&lt;/b&gt;" in html
    assert hostile in derivation.render("text")  # plain text is not markup: shown as written


# --- 6. names a claim would read two ways are refused -------------------------------------------------

BASE = """\
inputs: [i1, i2]
layers:
  - units: [h1, h2]
    activation: sigmoid
    weights:
      - [{w1: 0.15}, {w2: 0.20}]
      - [{w3: 0.25}, {w4: 0.30}]
    bias: {b1: 0.35}
  - units: [o1, o2]
    activation: sigmoid
    weights:
      - [{w5: 0.40}, {w6: 0.45}]
      - [{w7: 0.50}, {w8: 0.55}]
    bias: {b2: 0.60}
loss: half_sse
sample:
  inputs: [0.05, 0.10]
  targets: [0.01, 0.99]
learning_rate: 0.5
"""

CLASHES = {
    "input_net_h1": (BASE.replace("[i1, i2]", "[net_h1, i2]"), ["'net_h1'", "h1"]),
    "parameter_w5_new": (BASE.replace("{w6: 0.45}", "{w5_new: 0.45}"), ["'w5_new'", "w5"]),
    "unit_and_input_x": (BASE.replace("[i1, i2]", "[x, i2]").replace("[h1, h2]", "[x, h2]"), ["'x'", "unit", "input"]),
    "unit_E": (BASE.replace("[h1, h2]", "[E, h2]"), ["'E'"]),
    "unit_eta": (BASE.replace("[o1, o2]", "[o1, eta]"), ["'eta'"]),
    "unit_new": (BASE.replace("[h1, h2]", "[new, h2]"), ["'new'"]),
    "parameter_out_o1": (BASE.replace("{w8: 0.55}", "{out_o1: 0.55}"), ["'out_o1'", "o1"]),
    "parameter_t_o2": (BASE.replace("{w8: 0.55}", "{t_o2: 0.55}"), ["'t_o2'", "o2"]),
    "parameter_t_new_beside_t": (BASE.replace("{w7: 0.50}, {w8: 0.55}", "{t: 0.50}, {t_new: 0.55}"), ["'t_new'"]),
}


def run_spec(tmp_path, text):
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    return path, CliRunner().invoke(cli, ["run", str(path)])


@pytest.mark.parametrize("case", sorted(CLASHES))
def test_ambiguous_names_are_refused(case, tmp_path):
    text, fragments = CLASHES[case]
    _, result = run_spec(tmp_path, text)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output + result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("case", sorted(CLASHES))
def test_refusals_name_the_file(case, tmp_path):
    # The README: bad input gives one line naming the file, line and field.
    path, result = run_spec(tmp_path, CLASHES[case][0])
    assert result.exit_code == 2
    assert str(path) in result.stderr and "line " in result.stderr, result.stderr


# Names that a claim reads two ways through the other spellings of the claim language:
# out_U_new (an out after the update), and the index notation (net_4 is the net of the 4th unit, x_1 the first input).
MORE_CLASHES = {
    "unit_h1_new_beside_h1": (BASE.replace("[o1, o2]", "[o1, h1_new]"), ["h1_new"]),
    "parameter_net_4": (BASE.replace("{w8: 0.55}", "{net_4: 0.55}"), ["net_4"]),
    "inputs_x_2_x_1": (BASE.replace("[i1, i2]", "[x_2, x_1]"), ["x_"]),
    "parameter_w_63": (BASE.replace("{w5: 0.40}", "{w_63: 0.40}"), ["w_63"]),
}


@pytest.mark.parametrize("case", sorted(MORE_CLASHES))
def test_names_ambiguous_through_other_spellings_are_refused(case, tmp_path):
    text, fragments = MORE_CLASHES[case]
    _, result = run_spec(tmp_path, text)
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stderr.startswith("error: ")
    for fragment in fragments:
        assert fragment in result.stderr


def test_tutorial_names_run_from_the_command_line(tmp_path):
    path, result = run_spec(tmp_path, A)
    assert result.exit_code == 0, result.stderr
    assert r"\mathrm{net}_{net}" in result.output
    checked = CliRunner().invoke(cli, ["check", str(path), "--claim", "net_net = w3*x + w4*t + b1",
                                       "--claim", "dE/dw1 = delta_y*t"])
    assert checked.exit_code == 1, checked.output
    assert "[correct] net_net" in checked.output and "[incorrect] dE/dw1" in checked.output


def test_only_x_dash_keys_are_free():
    with pytest.raises(derive.SpecError, match="x_course"):
        derive.load_text(A.replace("x-course:", "x_course:"))
