"""The catalogue of update rules, as data: names, formulas as text, hyper-parameters. No SymPy here, so
the command line can offer the rules (and a cached training run can name them) without importing it;
derive.functions parses the formulas with derive's own grammar.
"""
from __future__ import annotations

# name -> (hyper-parameters with their defaults, the rule's state, its lines). Each line (name, formula)
# computes one value for each trainable parameter, in p (the parameter), g (∂E/∂p), eta (the learning rate),
# t (the number of this update, counted from 1), the hyper-parameters, the state (each starts at 0) and the
# names of the lines before it; a state's name after the line that updates it is its new value, and the line
# named p is the parameter after the update. The conventions and defaults are torch.optim's (`momentum`,
# for which torch has no default, is 0.9). Adding a rule is one entry here: SymPy and derive do the rest.
UPDATE_RULES: dict[str, tuple[dict[str, str], tuple[str, ...], tuple[tuple[str, str], ...]]] = {
    "sgd": ({}, (), (("p", "p - eta*g"),)),
    "momentum": ({"momentum": "0.9"}, ("b",), (("b", "momentum*b + g"), ("p", "p - eta*b"))),
    "nesterov": ({"momentum": "0.9"}, ("b",), (("b", "momentum*b + g"), ("p", "p - eta*(g + momentum*b)"))),
    "rmsprop": ({"alpha": "0.99", "eps": "1e-8"}, ("v",),
                (("v", "alpha*v + (1 - alpha)*g^2"), ("p", "p - eta*g/(sqrt(v) + eps)"))),
    "adagrad": ({"eps": "1e-10"}, ("s",), (("s", "s + g^2"), ("p", "p - eta*g/(sqrt(s) + eps)"))),
    "adam": ({"beta1": "0.9", "beta2": "0.999", "eps": "1e-8"}, ("m", "v"),
             (("m", "beta1*m + (1 - beta1)*g"), ("v", "beta2*v + (1 - beta2)*g^2"),
              ("mhat", "m/(1 - beta1^t)"), ("vhat", "v/(1 - beta2^t)"),
              ("p", "p - eta*mhat/(sqrt(vhat) + eps)"))),
}
# Every rule takes weight_decay (default 0): when it is not 0, the gradient the rule's lines use is first
# g + weight_decay·p (torch's L2 penalty), one line more.
WEIGHT_DECAY = ("g", "g + weight_decay*p")
# hyper-parameter -> (LaTeX, text, lowest value, whether the lowest is allowed, highest value or None,
# whether the highest is allowed)
HYPERPARAMETERS: dict[str, tuple[str, str, str, bool, str | None, bool]] = {
    "momentum": (r"\mu", "μ", "0", True, "1", False),
    "alpha": (r"\alpha", "α", "0", True, "1", False),
    "beta1": (r"\beta_{1}", "β₁", "0", True, "1", False),
    "beta2": (r"\beta_{2}", "β₂", "0", True, "1", False),
    "eps": (r"\epsilon", "ε", "0", False, None, False),
    "weight_decay": (r"\lambda", "λ", "0", True, None, False),
}
# A state's or a line's name -> (LaTeX, text)
RULE_NAMES: dict[str, tuple[str, str]] = {
    "b": ("b", "b"), "v": ("v", "v"), "s": ("s", "s"), "m": ("m", "m"),
    "mhat": (r"\hat{m}", "m̂"), "vhat": (r"\hat{v}", "v̂"), "g": ("g", "g"),
}
