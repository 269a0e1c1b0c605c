"""The figures of a Derivation as plain data (JSON-ready doubles)."""
from __future__ import annotations

from .numbers import to_float


def to_data(derivation) -> dict:
    """Return forward, loss, delta, gradient, updated, loss_after_update and more, as floats."""
    network, value = derivation.network, derivation.value
    spec = network.spec
    data = {
        "title": spec.title,
        "forward": {u.name: {"net": to_float(value("net", u.name)), "out": to_float(value("out", u.name))}
                    for u in network.units},
        "loss": to_float(derivation.values[network.loss]),
        "loss_terms": {u.name: to_float(value("loss_term", u.name)) for u in network.output_layer.units},
        "delta": {u.name: to_float(value("delta", u.name)) for u in network.units},
        "gradient": {p.name: to_float(value("gradient", p.name)) for p in network.parameters},
        "updated": {p.name: to_float(value("update", p.name)) for p in network.parameters},
        "loss_after_update": to_float(value("after_loss")),
        "forward_after_update": {u.name: {"net": to_float(value("after_net", u.name)),
                                          "out": to_float(value("after_out", u.name))} for u in network.units},
        "parameters": {p.name: to_float(p.value) for p in network.parameters},
        "trainable": {p.name: p.trainable for p in network.parameters},
        "sample": {"inputs": {name: to_float(v) for (name, _), v in zip(network.inputs, spec.sample_inputs)},
                   "targets": {u.name: to_float(v) for u, v in zip(network.output_layer.units, spec.targets)}},
        "learning_rate": to_float(spec.learning_rate),
    }
    rule = network.rule
    data["optimizer"] = {"name": rule.name, **{name: to_float(value) for name, value in rule.hyper}}
    if rule.states:  # the rule's state after the update, by parameter
        data["state"] = {p.name: {name: to_float(value("after_state", name, p.name)) for name in rule.states}
                         for p in network.parameters if p.trainable}
    if len(spec.samples) > 1:
        data["samples"] = len(spec.samples)
    if derivation.checks:
        data["verification"] = {
            "passed": derivation.verified,
            "parameters": {c.parameter: {"gradient": to_float(c.gradient), "direct": to_float(c.direct),
                                         "finite_difference": to_float(c.finite_difference),
                                         "relative_difference_direct": c.relative_difference_direct,
                                         "relative_difference_finite": c.relative_difference_finite}
                           for c in derivation.checks},
        }
    return data
