"""derive train: many updates of the derived step, compiled to floats.

Truth is not the code under test: the classic run of 10,000 updates in ../shared/reference (PyTorch
float64 autograd), PyTorch itself on random networks when it is installed (CI installs the CPU build),
and the plain-Python model of tests/reference_model.py stepped by central finite differences.
"""
import json
import math
import random

import pytest
import yaml
from click.testing import CliRunner

import derive
from derive.cli import cli
from derive.train import train
from reference_model import Model


def test_ten_thousand_classic_updates_give_pytorchs_figures(reference):
    run = train(derive.derive(derive.example("classic")), 10_000)
    expected = reference["train_10000"]
    assert run.loss == pytest.approx(expected["loss"], rel=1e-12)
    for unit, value in expected["outputs"].items():
        assert run.outputs[0][unit] == pytest.approx(value, rel=1e-12)
    for name, value in expected["params"].items():
        assert run.params[name] == pytest.approx(value, rel=1e-12)
    assert run.history[0] == (0, pytest.approx(reference["loss"], rel=1e-15))
    assert run.history[1][0] == 100 and len(run.history) == 101


def _random_network(rng: random.Random) -> str:
    hidden = rng.choice(["sigmoid", "tanh", "softplus", "identity"])
    output, loss = rng.choice([("sigmoid", "half_sse"), ("sigmoid", "bce"), ("identity", "mse"),
                               ("softmax", "cross_entropy"), ("tanh", "sse")])
    sizes = [rng.randint(1, 3), rng.randint(1, 3), rng.randint(2, 3)]
    weight = lambda: round(rng.uniform(-0.8, 0.8), 2)  # noqa: E731
    layers = []
    for index, (fan_in, units) in enumerate(zip(sizes, sizes[1:]), start=1):
        layer = {"units": [f"u{index}_{k}" for k in range(units)], "activation": hidden if index < len(sizes) - 1
                 else output, "weights": [[weight() for _ in range(fan_in)] for _ in range(units)]}
        if rng.random() < 0.5:
            layer["bias"] = {f"b{index}": weight()}            # one bias shared by the layer
        else:
            layer["bias"] = [weight() for _ in range(units)]   # one bias a unit
        layers.append(layer)
    targets = [0.0] * sizes[-1]
    if output == "softmax":
        targets[rng.randrange(sizes[-1])] = 1.0
    else:
        targets = [round(rng.uniform(0.1, 0.9), 2) for _ in targets]
    return yaml.safe_dump({"inputs": [f"x{k}" for k in range(sizes[0])], "layers": layers, "loss": loss,
                           "sample": {"inputs": [round(rng.uniform(-1, 1), 2) for _ in range(sizes[0])],
                                      "targets": targets},
                           "learning_rate": rng.choice([0.1, 0.5]), "update_biases": rng.random() < 0.7})


def _torch_run(text: str, steps: int):
    """The same network in PyTorch float64, trained by torch.optim.SGD: (loss, {param: value})."""
    import torch
    model = Model(text)
    data = model.data
    params = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in model.params.items()}
    trainable = [tensor for name, tensor in params.items()
                 if data.get("update_biases", True) or not any(name in biases for *_, biases in model.layout)]
    optimizer = torch.optim.SGD(trainable, lr=float(data["learning_rate"]))
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda x: x,
                 "softplus": torch.nn.functional.softplus}

    def loss_now():
        values = [torch.tensor(float(v), dtype=torch.float64) for v in data["sample"]["inputs"]]
        for units, activation, rows, biases in model.layout:
            nets = [sum(params[w] * v for w, v in zip(row, values)) + (params[b] if b else 0.0)
                    for row, b in zip(rows, biases)]
            values = list(torch.softmax(torch.stack(nets), 0)) if activation == "softmax" else \
                [functions[activation](net) for net in nets]
        targets = [float(t) for t in data["sample"]["targets"]]
        terms = {"half_sse": lambda o, t: 0.5 * (t - o) ** 2, "sse": lambda o, t: (t - o) ** 2,
                 "mse": lambda o, t: (t - o) ** 2, "bce": lambda o, t: -(t * torch.log(o) + (1 - t) * torch.log(1 - o)),
                 "cross_entropy": lambda o, t: -t * torch.log(o)}[data["loss"]]
        total = sum(terms(o, t) for o, t in zip(values, targets))
        return total / len(values) if data["loss"] == "mse" else total

    for _ in range(steps):
        optimizer.zero_grad()
        loss_now().backward()
        optimizer.step()
    with torch.no_grad():
        return float(loss_now()), {name: float(tensor) for name, tensor in params.items()}


@pytest.mark.parametrize("seed", range(6))
def test_random_networks_train_as_pytorch_does(seed):
    from conftest import require_module
    require_module("torch")
    text = _random_network(random.Random(seed))
    run = train(derive.derive(derive.load_text(text)), 50, every=10)
    loss, params = _torch_run(text, 50)
    assert run.loss == pytest.approx(loss, rel=1e-10, abs=1e-14)
    for name, value in params.items():
        assert run.params[name] == pytest.approx(value, rel=1e-10, abs=1e-14), name


def test_a_few_updates_agree_with_finite_differences_of_an_independent_model():
    text = _random_network(random.Random(11))
    model = Model(text)
    eta, trained = float(model.data["learning_rate"]), model.data.get("update_biases", True)
    biases = {b for *_, names in model.layout for b in names if b}
    for _ in range(3):  # three updates by central differences of the plain-Python model
        gradients = {name: model.finite_difference(name, 1e-6) for name in model.params}
        for name, gradient in gradients.items():
            if trained or name not in biases:
                model.params[name] -= eta * gradient
    run = train(derive.derive(derive.load_text(text)), 3)
    for name, value in model.params.items():
        assert run.params[name] == pytest.approx(value, rel=1e-6, abs=1e-8), name
    assert run.loss == pytest.approx(model.loss(), rel=1e-6)


def test_the_command_writes_json_csv_and_text_in_any_language(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["train", "classic", "--steps", "200", "--every", "50", "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert set(data) == {"steps", "optimizer", "loss", "outputs", "params", "history", "every"}
    assert list(data["history"]) == ["0", "50", "100", "150", "200"] and data["steps"] == 200
    assert data["loss"] == data["history"]["200"] < data["history"]["0"]
    csv = runner.invoke(cli, ["train", "--steps", "4", "-f", "csv"]).output.splitlines()
    assert csv[0] == "step,loss" and [line.split(",")[0] for line in csv[1:]] == ["0", "1", "2", "3", "4"]
    assert all(math.isfinite(float(line.split(",")[1])) for line in csv[1:])
    chinese = runner.invoke(cli, ["train", "--steps", "3", "--lang", "zh"]).output
    assert "次更新后的损失" in chinese and "update" not in chinese and "Loss" not in chinese


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_text_tables_line_up_in_terminal_columns(lang):
    """The loss column starts at the same terminal column in the heading and every row, Chinese characters
    taking two columns (unicodedata says which are wide), for one rule and for rules compared."""
    import unicodedata

    def column_of_second_field(line: str) -> int:
        head = line[:len(line) - len(line.lstrip()) + len(line.split()[0])]
        rest = line[len(head):]
        head += rest[:len(rest) - len(rest.lstrip())]
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in head)

    runner = CliRunner()
    for extra in ([], ["--compare", "sgd,adam"]):
        output = runner.invoke(cli, ["train", "--steps", "100", "--every", "50", "--lang", lang, *extra]).output
        table = output.split("\n\n")[1].splitlines()
        assert len(table) == 4, output
        assert len({column_of_second_field(line) for line in table}) == 1, table


def test_a_run_that_diverges_is_one_line_and_exit_code_2(tmp_path):
    spec = tmp_path / "wild.yaml"
    spec.write_text(derive.examples.path("classic").read_text(encoding="utf-8")
                    .replace("activation: sigmoid", "activation: identity").replace("learning_rate: 0.5", "learning_rate: 50"),
                    encoding="utf-8")
    result = CliRunner().invoke(cli, ["train", str(spec), "--steps", "1000", "-o", str(tmp_path / "out.json")])
    assert result.exit_code == 2 and "diverges" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.json").exists()


def test_the_loss_curve_is_an_svg_of_every_kept_step(tmp_path):
    from xml.etree import ElementTree
    runner = CliRunner()
    for name in ("a.svg", "b.svg"):
        result = runner.invoke(cli, ["train", "--steps", "2000", "--every", "100", "-o", str(tmp_path / "run.json"),
                                     "--plot", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()  # the same run, the same file
    history = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))["history"]
    svg = ElementTree.fromstring((tmp_path / "a.svg").read_text(encoding="utf-8").split("\n", 2)[2])
    namespace = "{http://www.w3.org/2000/svg}"
    points = [tuple(map(float, pair.split(","))) for pair in svg.find(f"{namespace}polyline").get("points").split()]
    assert len(points) == len(history) == 21
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # one point a kept step, left to right
    losses = list(history.values())
    # the higher the loss, the higher on the page (smaller y), point for point
    assert sorted(range(len(losses)), key=losses.__getitem__) == sorted(range(len(ys)), key=lambda i: -ys[i])
    assert svg.find(f"{namespace}title").text == "Loss during 2000 update(s)"
    refused = runner.invoke(cli, ["train", "--steps", "5", "--plot", str(tmp_path / "c.gif")])
    assert refused.exit_code == 2 and ".svg, .png or .pdf" in refused.output and not (tmp_path / "c.gif").exists()


def test_the_loss_curve_as_png_and_pdf_through_matplotlib(tmp_path):
    import struct
    import subprocess
    from conftest import require_module, require_tool
    require_module("matplotlib")  # the plot extra; the test extra installs it, so CI runs this
    runner = CliRunner()
    made = {}
    for name in ("a.png", "b.png", "c.pdf"):
        result = runner.invoke(cli, ["train", "--steps", "300", "--plot", str(tmp_path / name), "-o",
                                     str(tmp_path / "run.csv")])
        assert result.exit_code == 0, result.output
        made[name] = (tmp_path / name).read_bytes()
    assert made["a.png"] == made["b.png"] and made["a.png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", made["a.png"][16:24]) == (768, 432)  # 6.4 × 3.6 inches at 120 dpi
    text = subprocess.run([require_tool("pdftotext"), str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Loss during 300 update(s)" in text and "step" in text


def test_a_run_as_a_document_in_markdown_html_and_pdf(tmp_path):
    """-f md|html|tex|pdf: the loss at chosen steps, the curve, the final figures — the run's own numbers."""
    import subprocess
    from conftest import require_tool
    runner = CliRunner()
    data = json.loads(runner.invoke(cli, ["train", "--steps", "400", "--every", "10", "-f", "json"]).output)
    result = runner.invoke(cli, ["train", "--steps", "400", "--every", "10", "-o", str(tmp_path / "run.md")])
    assert result.exit_code == 0, result.output
    markdown = (tmp_path / "run.md").read_text(encoding="utf-8")
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and line[2].isdigit()]
    steps = [int(row.split("|")[1]) for row in rows[:21]]
    assert steps[0] == 0 and steps[-1] == 400 and len(steps) == 21  # 41 kept losses, 21 shown, evenly
    assert rows[20].split("|")[2].strip() == f"{data['history']['400']:.10g}"
    assert "![loss E](run.svg)" in markdown and (tmp_path / "run.svg").read_text().startswith("<?xml")
    html = runner.invoke(cli, ["train", "--steps", "400", "-f", "html", "--lang", "zh"]).output
    assert '<html lang="zh">' in html and "<polyline" in html and "训练过程中的损失" in html
    tex = runner.invoke(cli, ["train", "--steps", "400", "--compare", "sgd,adam", "-f", "tex"]).output
    assert tex.count("\\addplot") == 2 and "ymode=log" in tex and "\\addlegendentry{Adam}" in tex
    require_tool("pdftotext")
    result = runner.invoke(cli, ["train", "--steps", "400", "-o", str(tmp_path / "run.pdf")])
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(tmp_path / "run.pdf"), "-"], capture_output=True, text=True).stdout
    assert f"{data['loss']:.10g}" in text and "The loss during training" in text
    result = runner.invoke(cli, ["train", "--steps", "4", "-f", "pdf"])
    assert result.exit_code == 2 and "-o" in result.output


def test_a_document_never_replaces_a_file_derive_did_not_write(tmp_path):
    (tmp_path / "run.svg").write_text("my own drawing", encoding="utf-8")
    result = CliRunner().invoke(cli, ["train", "--steps", "4", "-o", str(tmp_path / "run.md")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert (tmp_path / "run.svg").read_text(encoding="utf-8") == "my own drawing"
    assert not (tmp_path / "run.md").exists()


@pytest.mark.parametrize("lang, label", [("en", "training"), ("zh", "训练中")])
def test_a_long_run_shows_a_progress_bar_on_a_terminal_in_its_language(tmp_path, lang, label):
    """On a terminal (a pseudo-terminal here) the bar shows on standard error, labelled from the catalogue;
    the figures written are the same as without one."""
    import os
    import pty
    import subprocess
    import sys
    master, slave = pty.openpty()
    command = [sys.executable, "-m", "derive", "train", "--steps", "200000", "--lang", lang,
               "-o", str(tmp_path / "run.json")]
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(timeout=300) == 0
    assert label in shown.decode("utf-8", "replace") and "100%" in shown.decode("utf-8", "replace")
    plain = CliRunner().invoke(cli, ["train", "--steps", "200000", "-f", "json"]).output
    assert json.loads((tmp_path / "run.json").read_text(encoding="utf-8")) == json.loads(plain)
