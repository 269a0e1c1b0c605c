"""`derive train --crosscheck torch`: the same training run in PyTorch float64, with torch.optim's optimizer.

The network is built from the spec (its parameters by name, each layer's built-in activation, the
built-in loss) as torch tensors; each update takes the same batch as derive's run (derive.train's
batch order), the batch's loss is the mean or sum of its samples' (`batch_loss`), and torch's autograd
and its optimizer of the same name make the update. The result is the largest relative difference of
the final loss and parameters from derive's run. Nothing here is used to compute derive's figures;
torch is imported only when asked for (``pip install 'derive[torch]'``).
"""
from __future__ import annotations

from .errors import DeriveError

FLOOR = 1e-12  # differences of values smaller than this count as absolute, not relative


class CrosscheckError(DeriveError):
    """A cross-check that cannot be made: torch missing, or a network torch cannot be built for here."""


def torch_run(spec, steps: int) -> tuple[float, dict[str, float]]:
    """Return (the loss over every sample, each parameter's value) after `steps` updates in torch."""
    try:
        import torch
    except ImportError:
        raise CrosscheckError("error_needs_torch") from None
    from .train import batches
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda x: x,
                 "leaky_relu": lambda x: torch.nn.functional.leaky_relu(x, 0.01),
                 "softplus": torch.nn.functional.softplus, "softmax": lambda x: torch.softmax(x, 0)}
    losses = {"half_sse": lambda o, t: (0.5 * (t - o) ** 2).sum(), "sse": lambda o, t: ((t - o) ** 2).sum(),
              "mse": lambda o, t: ((t - o) ** 2).mean(),
              "bce": lambda o, t: (-(t * torch.log(o) + (1 - t) * torch.log(1 - o))).sum(),
              "cross_entropy": lambda o, t: (-t * torch.log(o)).sum()}
    unknown = [layer.activation.name for layer in spec.layers if layer.activation.name not in functions]
    if unknown or spec.loss.name not in losses:
        raise CrosscheckError("error_crosscheck_builtin", name=(unknown or [spec.loss.name])[0][:40])
    params: dict = {}
    trainable = []
    for layer in spec.layers:
        for entry in [e for row in layer.weights for e in row] + list(layer.bias):
            if entry.name not in params:
                params[entry.name] = torch.tensor(float(entry.value), dtype=torch.float64, requires_grad=True)
                if spec.update_biases or entry not in layer.bias:
                    trainable.append(params[entry.name])
    zero = torch.tensor(0.0, dtype=torch.float64)

    def sample_loss(inputs, targets):
        values = torch.tensor([float(v) for v in inputs], dtype=torch.float64)
        for layer in spec.layers:
            weights = torch.stack([torch.stack([params[e.name] for e in row]) for row in layer.weights])
            bias = torch.stack([params[e.name] for e in layer.bias]) if layer.bias else zero
            values = functions[layer.activation.name](weights @ values + bias)
        return losses[spec.loss.name](values, torch.tensor([float(t) for t in targets], dtype=torch.float64))

    optimizer = _optimizer(torch, spec.optimizer, trainable, float(spec.learning_rate))
    mean, schedule = spec.batch_loss == "mean", batches(spec)
    for _ in range(steps):
        batch = next(schedule)
        optimizer.zero_grad()
        total = sum(sample_loss(*spec.samples[index]) for index in batch)
        (total / len(batch) if mean else total).backward()
        optimizer.step()
    with torch.no_grad():
        each = [float(sample_loss(*sample)) for sample in spec.samples]
    return (sum(each) / len(each) if mean else sum(each)), {name: float(t.detach()) for name, t in params.items()}


def _optimizer(torch, rule, trainable, lr: float):
    """Return torch.optim's optimizer for derive's update rule, with the same hyper-parameters."""
    h = {name: float(value) for name, value in rule.hyper}
    decay = h.get("weight_decay", 0.0)
    if rule.name == "sgd":
        return torch.optim.SGD(trainable, lr=lr, weight_decay=decay)
    if rule.name in ("momentum", "nesterov"):
        return torch.optim.SGD(trainable, lr=lr, momentum=h["momentum"], nesterov=rule.name == "nesterov",
                               weight_decay=decay)
    if rule.name == "rmsprop":
        return torch.optim.RMSprop(trainable, lr=lr, alpha=h["alpha"], eps=h["eps"], weight_decay=decay)
    if rule.name == "adagrad":
        return torch.optim.Adagrad(trainable, lr=lr, eps=h["eps"], weight_decay=decay)
    if rule.name == "adam":
        return torch.optim.Adam(trainable, lr=lr, betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=decay)
    raise CrosscheckError("error_crosscheck_rule", name=rule.name)


def largest_difference(run, spec) -> float:
    """Return the largest relative difference between derive's `run` and torch's run of the same steps."""
    loss, params = torch_run(spec, run.steps)
    pairs = [(run.loss, loss)] + [(run.params[name], value) for name, value in params.items()]
    return max(abs(a - b) / max(abs(b), FLOOR) for a, b in pairs)
