"""Network -> Derivation: forward pass, loss, δ recursion, gradients, updates, as ordered Steps.

A Step is plain data: what is computed (`lhs`), its symbolic forms from the
most general to the one numbers go into, and its value. Every derivative in
it comes from SymPy (:mod:`derive.calculus`); nothing here knows any
particular activation or loss.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

import sympy

from . import calculus, verify
from .budget import within
from .functions import GENERIC, Summed, UpdateRule, X, shown
from .network import Layer, Network, Parameter, Unit
from .quantities import QuantitySymbol
from .numbers import PRECISION, evaluate, round_to
from .program import Program


def _product(*factors: sympy.Expr) -> sympy.Expr:
    """Return the product as written, factors kept in order and unevaluated."""
    factors = [f for f in factors if f != 1]
    if len(factors) == 1:
        return factors[0]
    return sympy.Mul(*factors, evaluate=False)


def _sum(*terms: sympy.Expr) -> sympy.Expr:
    """Return the sum as written, terms kept in order and unevaluated."""
    return terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)


@dataclass(frozen=True)
class Step:
    """One line of the worked example: lhs = forms[0] = … = forms[-1] = (numbers) = value.

    `lhs` is the QuantitySymbol computed; `section` (forward, loss, backward,
    update, after), `kind` (its kind's name: net, out, loss_term, loss,
    dE_dout, activation_derivative, delta, gradient, update, after_out,
    after_loss) and `subject` (the unit or parameter, E for the loss) are
    its kind's and subjects', kept as fields for templates and JSON.
    `numbers` is the form shown with every symbol replaced by its value
    (None: not shown). `notes` are message keys the documents explain.
    """

    section: str
    kind: str
    subject: str
    layer: int | None
    lhs: sympy.Expr
    forms: tuple[sympy.Expr, ...]
    numbers: sympy.Expr | None
    value: sympy.Expr
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """The self-check of one parameter's gradient against two computations that do not use the δ recursion
    (see :mod:`derive.verify`): forward-mode differentiation of the loss, and finite differences."""

    parameter: str
    gradient: sympy.Expr
    direct: sympy.Expr
    finite_difference: sympy.Expr
    relative_difference_direct: float
    relative_difference_finite: float

    @property
    def symbol(self) -> QuantitySymbol:
        return QuantitySymbol("param", self.parameter)

    @property
    def passed(self) -> bool:
        return (self.relative_difference_direct <= verify.DIRECT_TOLERANCE
                and self.relative_difference_finite <= verify.FINITE_TOLERANCE)


@dataclass(frozen=True)
class Derivation:
    """The whole worked example as data. Documents are views of it (:mod:`derive.render`; the library's
    :class:`derive.api.Derivation` adds render(), to_data() and the Jupyter display).

    `program` (a :class:`derive.program.Program`) lists every computed quantity
    with the expression that defines it from quantities before it: forward,
    loss, backward, updates, and the forward pass with the updated parameters
    (the after_… kinds), in order. It runs exactly at any values, and compiles
    into float code for training.
    """

    network: Network
    steps: tuple[Step, ...]
    values: Mapping[sympy.Symbol, sympy.Expr]
    program: Program
    checks: tuple[Check, ...] = ()
    options: Mapping[str, object] = field(default_factory=dict)

    def section(self, name: str) -> list[Step]:
        """Return the steps of one section, in order."""
        return [step for step in self.steps if step.section == name]

    def value(self, kind: str, *subjects: str) -> sympy.Expr:
        """Return the value of a quantity, e.g. value('out', 'h1') or value('gradient', 'w5')."""
        return self.values[QuantitySymbol(kind, *subjects)]

    @property
    def verified(self) -> bool | None:
        """Return True when every self-check passed, None when none was run."""
        return all(check.passed for check in self.checks) if self.checks else None


class _Deriver:
    def __init__(self, network: Network, round_steps: int | None = None):
        self.network = network
        self.round_steps = round_steps
        self.rule = network.rule
        self.values: dict[sympy.Symbol, sympy.Expr] = dict(network.given_values())
        self.steps: list[Step] = []
        self.program: list[tuple[sympy.Symbol, sympy.Expr]] = []
        self.forms: dict[sympy.Symbol, tuple[sympy.Expr, ...]] = {}
        # Indexes of the network's terms, so each local derivative looks only at the terms it concerns
        # and the whole derivation stays linear in the number of weights.
        self.terms_with: dict[str, list[tuple[Unit, sympy.Expr]]] = {}   # parameter -> (unit, term)
        self.terms_fed_by: dict[str, list[tuple[Unit, sympy.Expr]]] = {}  # unit -> (downstream unit, term)
        for unit in network.units:
            for connection in unit.connections:
                term = connection.weight.symbol * connection.source_symbol
                self.terms_with.setdefault(connection.weight.name, []).append((unit, term))
                self.terms_fed_by.setdefault(connection.source, []).append((unit, term))
            if unit.bias:
                self.terms_with.setdefault(unit.bias.name, []).append((unit, unit.bias.symbol))

    def add(self, lhs: QuantitySymbol, layer, forms, definition, notes=()) -> sympy.Expr:
        """Compute `lhs` from its `definition`, and record the step that shows it through `forms`."""
        subject = lhs.subjects[0] if lhs.subjects else "E"
        value = self.rounded(evaluate(definition, self.values, what=f"{lhs.kind.name.replace('_', ' ')} of {subject}"))
        self.values[lhs] = value
        self.program.append((lhs, definition))
        self.forms[lhs] = tuple(forms)
        self.steps.append(Step(lhs.kind.section, lhs.kind.name, subject, layer, lhs, tuple(forms),
                               forms[-1] if forms else None, value, tuple(notes)))
        return value

    def rounded(self, value: sympy.Expr) -> sympy.Expr:
        """Return `value` as the next step uses it: rounded to `round_steps` decimals when asked (hand calculation)."""
        return value if self.round_steps is None else round_to(value, self.round_steps)

    # forward -----------------------------------------------------------
    def forward(self) -> None:
        for layer in self.network.layers:
            outputs = layer.outputs()
            if layer.activation.layer_wise:
                for unit in layer.units:
                    self.net(unit)
                for unit, output in zip(layer.units, outputs):
                    self.add(unit.out, layer.index, (output,), output)
                continue
            for unit, output in zip(layer.units, outputs):
                self.net(unit)
                applied = shown(layer.activation)(unit.net)
                # f(net) is shown by name, then as its formula; a formula that is one named function (tanh) is both.
                named = isinstance(output, sympy.Function) and output.args == (unit.net,)
                forms = (unit.net,) if output == unit.net else (output,) if named else (applied, output)
                self.add(unit.out, layer.index, forms, output)

    def net(self, unit: Unit) -> None:
        self.add(unit.net, unit.layer, (unit.net_display,), unit.net_definition)

    def loss(self) -> None:
        network = self.network
        for unit, symbol, term in zip(network.output_layer.units, network.loss_terms, network.loss_term_definitions()):
            self.add(symbol, None, (term,), term)
        self.add(network.loss, None, (_sum(*network.loss_terms),), sympy.Add(*network.loss_terms))

    # backward ----------------------------------------------------------
    def backward(self) -> None:
        layers = self.network.layers
        for position in range(len(layers) - 1, -1, -1):
            layer = layers[position]
            following = layers[position + 1] if position + 1 < len(layers) else None
            for unit in layer.units:
                self.error_at_output(unit, following)
            if layer.activation.layer_wise:
                self.layer_wise_deltas(layer)
            else:
                for unit in layer.units:
                    self.unit_delta(unit, layer)
            for parameter in self.parameters_last_used_in(layer):
                self.gradient(parameter)

    def error_at_output(self, unit: Unit, following: Layer | None) -> None:
        lhs = QuantitySymbol("dE_dout", unit.name)
        if following is None:
            loss = sympy.Add(*self.network.loss_term_definitions())
            definition = calculus.differentiate(loss, unit.out)
            self.add(lhs, unit.layer, (definition,), definition)
            return
        terms, pieces = [], []
        for downstream in _units_in_order(self.terms_fed_by.get(unit.name, [])):
            local = sympy.Add(*[calculus.differentiate(term, unit.out)
                                for user, term in self.terms_fed_by[unit.name] if user is downstream])
            if local != 0:
                delta = QuantitySymbol("delta", downstream.name)
                terms.append(delta * local)
                pieces.append(_product(delta, local))
        if not pieces:
            pieces = [sympy.Integer(0)]
        written = _sum(*pieces)
        self.add(lhs, unit.layer, (written,), sympy.Add(*terms))

    def unit_delta(self, unit: Unit, layer: Layer) -> None:
        formula, x = layer.activation.formula, X
        derivative = calculus.differentiate(formula, x).xreplace({x: unit.net})
        in_output = calculus.derivative_in_output(formula, x)
        forms = (derivative,) + ((in_output.xreplace({calculus.OUTPUT: unit.out}),) if in_output is not None else ())
        slope = QuantitySymbol("activation_derivative", unit.name, unit.name)
        # Computed as it is written last: from out when f' is a polynomial in f (σ' = out(1 − out)), so that
        # a student's own out carries into their δ as it does by hand (equal values: SymPy proved it).
        self.add(slope, unit.layer, forms, forms[-1])
        error = QuantitySymbol("dE_dout", unit.name)
        written = _product(self.forms[error][-1], forms[-1])
        delta_forms = (_product(error, slope), written)
        simpler = self.simpler(self.forms[error][-1] * forms[-1], written)
        self.add(QuantitySymbol("delta", unit.name), unit.layer, delta_forms + ((simpler,) if simpler is not None
                                                                               else ()), error * slope)

    @staticmethod
    def simpler(product: sympy.Expr, written: sympy.Expr) -> sympy.Expr | None:
        """Return `product` (∂E/∂out · f′ as written) cancelled and factored when that is clearly shorter than
        the product written out (σ with BCE: out − t), else None. A bounded search (calculus.SEARCH_CALLS)."""
        if not any(power.exp.is_negative for power in product.atoms(sympy.Pow)) or sympy.count_ops(product) > 60:
            return None  # no quotient to cancel (squared error with σ: nothing shorter to find)
        candidate = within(calculus.SEARCH_CALLS, lambda: calculus.shortest_form(sympy.cancel(product)), None)
        if candidate is None or sympy.count_ops(candidate) * 2 > sympy.count_ops(written):
            return None
        return candidate

    def layer_wise_deltas(self, layer: Layer) -> None:
        nets = [unit.net for unit in layer.units]
        outs = [unit.out for unit in layer.units]
        jacobian = calculus.jacobian_in_outputs(layer.outputs(), nets, outs)
        targets_sum_to_one = layer is self.network.output_layer and sum(self.network.spec.targets) == 1
        errors = [QuantitySymbol("dE_dout", unit.name) for unit in layer.units]
        written_errors = [self.forms[error][-1] for error in errors]
        families = [nets, outs] + ([list(self.network.targets)] if layer is self.network.output_layer else [])
        # When renaming the units permutes the errors too (a loss that treats every output alike), δ_0's
        # simplified form, renamed, is every δ_k's: one simplification instead of one per unit.
        symmetric = len(nets) > 2 and calculus.equivariant(families, written_errors)
        first = None
        for k, unit in enumerate(layer.units):
            symbolic = _sum(*[_product(error, QuantitySymbol("activation_derivative", other.name, unit.name))
                              for error, other in zip(errors, layer.units)])
            definition = sympy.Add(*[error * jacobian[m][k] for m, error in enumerate(errors)])
            written = _sum(*[_product(written_errors[m], jacobian[m][k]) for m in range(len(errors))])
            if symmetric and first is not None:
                simplified = first[0].xreplace(calculus.renaming(families, calculus.permutation(len(nets), k)))
                notes = first[1]
            else:
                simplified, notes = self.simplified_delta(written_errors, [row[k] for row in jacobian], outs,
                                                          targets_sum_to_one, k, layer)
                first = (simplified, notes)
            forms = (symbolic, written) + ((simplified,) if simplified != written else ())
            self.add(QuantitySymbol("delta", unit.name), unit.layer, forms, definition, notes=notes)

    def simplified_delta(self, errors, column, outs, targets_sum_to_one: bool, k: int, layer: Layer):
        """Return (δ of unit k of a layer-wise layer, simplified, and its notes): Σ_m error_m·J[m][k].

        Where the layer's outputs have a constant sum (softmax: Σ out = 1, derived by SymPy from the
        activation) and, with the targets summing to 1 too, another unit's out and target are written in
        the others' when that makes δ_k shorter (δ_o1 = out_o1 − t_o1 for two softmax outputs)."""
        combined = sympy.Add(*[error * entry for error, entry in zip(errors, column)])
        simplified, notes = sympy.collect(sympy.expand(sympy.simplify(combined)), outs), ()
        if targets_sum_to_one:
            using_sum = sympy.simplify(simplified.subs(sympy.Add(*self.network.targets), 1))
            if using_sum != simplified:
                simplified, notes = using_sum, ("targets_sum_to_one",)
        total = calculus.output_total(tuple(layer.outputs()))
        targets = list(self.network.targets) if layer is self.network.output_layer else []
        if total is not None and targets_sum_to_one and len(outs) > 1 and targets:
            m = max(index for index in range(len(outs)) if index != k)  # the unit written in the others
            others = [index for index in range(len(outs)) if index != m]
            eliminated = {outs[m]: total - sympy.Add(*[outs[j] for j in others]),
                          targets[m]: 1 - sympy.Add(*[targets[j] for j in others])}
            candidate = within(calculus.SEARCH_CALLS, lambda: sympy.simplify(simplified.xreplace(eliminated)), None)
            if candidate is not None and sympy.count_ops(candidate) < sympy.count_ops(simplified):
                simplified, notes = candidate, ("targets_sum_to_one",)
        return simplified, notes

    def parameters_last_used_in(self, layer: Layer) -> list[Parameter]:
        lowest = {name: min(unit.layer for unit, _ in uses) for name, uses in self.terms_with.items()}
        ordered = [c.weight for unit in layer.units for c in unit.connections] + [u.bias for u in layer.units if u.bias]
        seen, result = set(), []
        for parameter in ordered:
            if lowest[parameter.name] == layer.index and parameter.name not in seen:
                seen.add(parameter.name)
                result.append(parameter)
        return result

    def gradient(self, parameter: Parameter) -> None:
        terms = self.terms_with[parameter.name]
        uses = [(unit, sympy.Add(*[calculus.differentiate(term, parameter.symbol) for user, term in terms if user is unit]))
                for unit in _units_in_order(terms)]
        uses = [(unit, local) for unit, local in uses if local != 0]
        deltas = [QuantitySymbol("delta", unit.name) for unit, _ in uses]
        locals_ = [QuantitySymbol("dnet_dparam", unit.name, parameter.name) for unit, _ in uses]
        forms = []
        layers = {unit.layer: self.network.layers[unit.layer - 1] for unit, _ in uses}
        if len(uses) == 1 and not layers[uses[0][0].layer].activation.layer_wise:
            unit = uses[0][0]
            forms.append(_product(QuantitySymbol("dE_dout", unit.name), QuantitySymbol("activation_derivative", unit.name, unit.name),
                                  locals_[0]))
        forms.append(_sum(*[_product(d, l) for d, l in zip(deltas, locals_)]))
        forms.append(_sum(*[_product(d, local) for d, (_, local) in zip(deltas, uses)]))
        notes = ("shared_parameter",) if len(uses) > 1 else ()
        definition = sympy.Add(*[d * local for d, (_, local) in zip(deltas, uses)])
        layer = min(unit.layer for unit, _ in uses)
        self.add(QuantitySymbol("gradient", parameter.name), layer, forms, definition, notes=notes)

    # update and after ---------------------------------------------------
    def update(self) -> None:
        """Each parameter's update by the rule's lines (derive.functions.UpdateRule.apply): one step for each
        line (Adam: m, v, m̂, v̂, then p⁺), every formula the catalogue's, with this parameter's quantities."""
        for parameter in self.network.parameters:
            if not parameter.trainable:
                self.add(parameter.symbol.after, None, (parameter.symbol,), parameter.symbol, notes=("not_updated",))
                continue
            for lhs, written, definition in rule_lines(self.rule, parameter.name):
                self.add(lhs, None, (written,), definition)

    def after(self) -> None:
        """Append the forward pass with the updated parameters to the program, and its figures to the steps."""
        forward = self.forward_symbols()
        renamed = {symbol: symbol.after for symbol in forward}
        renamed.update({p.symbol: p.symbol.after for p in self.network.parameters})
        for symbol, definition in [entry for entry in self.program if entry[0] in forward]:
            lhs, definition = renamed[symbol], definition.xreplace(renamed)
            self.values[lhs] = self.rounded(evaluate(definition, self.values, what=f"{symbol.claim_name()} after the update"))
            self.program.append((lhs, definition))
        for unit in self.network.units:
            lhs = unit.out.after
            self.steps.append(Step("after", lhs.kind.name, unit.name, unit.layer, lhs, (), None, self.values[lhs]))
        lhs = self.network.loss.after
        self.steps.append(Step("after", lhs.kind.name, "E", None, lhs, (), None, self.values[lhs]))

    def forward_symbols(self) -> set[sympy.Symbol]:
        network = self.network
        return ({u.net for u in network.units} | {u.out for u in network.units}
                | set(network.loss_terms) | {network.loss})


def general_rules(taken: set[str] = frozenset()) -> dict[str, tuple[sympy.Expr, ...]]:
    """Return the δ recursion in general, as (lhs, form, ...) chains for the documents.

    For a hidden unit j feeding units k, and a weight w_ji from unit (or input) i
    into j: δ_j = ∂E/∂out_j ∂out_j/∂net_j = (Σ_k δ_k ∂net_k/∂out_j) f'(net_j), and
    ∂E/∂w_ji = δ_j ∂net_j/∂w_ji, with SymPy taking the local derivatives of
    net_k = … + w_kj out_j + … and net_j = … + w_ji out_i + …, as in every step.
    The index letters avoid the names in `taken` (a network's own names).
    """
    i, j, k = index_letters(taken)
    out_i, out_j, net_j = QuantitySymbol("out", i), QuantitySymbol("out", j), QuantitySymbol("net", j)
    w_kj, w_ji = QuantitySymbol("param", f"w_{k}{j}"), QuantitySymbol("param", f"w_{j}{i}")
    into_k = calculus.differentiate(w_kj * out_j, out_j)           # ∂net_k/∂out_j
    into_j = calculus.differentiate(w_ji * out_i, w_ji)           # ∂net_j/∂w_ji
    slope = shown(GENERIC, prime=True)(net_j)
    delta_j, delta_k = QuantitySymbol("delta", j), QuantitySymbol("delta", k)
    error = Summed(sympy.Symbol(k), _product(delta_k, into_k))
    return {
        "delta": (delta_j, _product(QuantitySymbol("dE_dout", j), QuantitySymbol("activation_derivative", j, j)),
                  _product(error, slope)),
        "gradient": (QuantitySymbol("gradient", w_ji.subjects[0]), _product(delta_j, into_j)),
    }


def rule_lines(rule: UpdateRule, parameter: str) -> list[tuple]:
    """Return the update of `parameter` by `rule` as (quantity computed, formula as written, definition):
    the catalogue's lines with this parameter's quantities (for a parameter named p, the rule in general:
    p⁺ = p − η ∂E/∂p)."""
    def symbols(name):
        if name == "p":
            return QuantitySymbol("param", parameter)
        if name == "g":
            return QuantitySymbol("gradient", parameter)
        if name == "eta":
            return QuantitySymbol("eta")
        if name == "t":
            return QuantitySymbol("step_number")
        if name in rule.states:
            return QuantitySymbol("state", name, parameter)
        return QuantitySymbol("hyper", name)

    def results(name):
        if name == "p":
            return QuantitySymbol("update", parameter)
        if name in rule.states:
            return QuantitySymbol("after_state", name, parameter)
        return QuantitySymbol("rule_term", name, parameter)

    return rule.apply(symbols, results)


def index_letters(taken) -> tuple[str, str, str]:
    """Return the index letters i, j, k of general formulas, skipping any the network uses as a name."""
    return tuple([letter for letter in ("i", "j", "k", "l", "m", "n", "p", "q") if letter not in taken][:3])


def _units_in_order(pairs: list[tuple[Unit, sympy.Expr]]) -> list[Unit]:
    """Return the distinct units of (unit, term) pairs, in order of first appearance."""
    seen: dict[str, Unit] = {}
    for unit, _ in pairs:
        seen.setdefault(unit.name, unit)
    return list(seen.values())


def derive(network_or_spec, verify: bool = False, round_steps: int | None = None,
           rule: UpdateRule | None = None) -> Derivation:
    """Return the Derivation of a Network (or of a Spec, which is built first).

    With `verify`, every gradient is also compared with SymPy's direct
    derivative of the fully expanded loss and with central finite differences.
    With `round_steps`, every computed value is rounded to that many decimals
    before the next step uses it, as in a hand calculation (then `verify`,
    which compares exact figures, is not available). `rule` is the update rule
    (default: the spec's optimizer, the catalogue's sgd unless it names another).
    """
    if verify and round_steps is not None:
        raise ValueError("verify compares exact figures; it cannot be combined with round_steps")
    from .network import build
    from .spec import Spec
    network = build(network_or_spec) if isinstance(network_or_spec, Spec) else network_or_spec
    if rule is not None and rule != network.rule:
        network = build(replace(network.spec, optimizer=rule))
    deriver = _Deriver(network, round_steps)
    deriver.forward()
    deriver.loss()
    deriver.backward()
    deriver.update()
    deriver.after()
    checks = tuple(_self_check(deriver)) if verify else ()
    options = {"round_steps": round_steps} if round_steps is not None else {}
    return Derivation(network, tuple(deriver.steps), deriver.values, Program(tuple(deriver.program)), checks, options)


def _self_check(deriver: _Deriver) -> list[Check]:
    network = deriver.network
    forward_symbols = deriver.forward_symbols()
    forward = [(symbol, definition) for symbol, definition in deriver.program if symbol in forward_symbols]
    values = {**network.given_values(), **{symbol: deriver.values[symbol] for symbol, _ in forward}}
    direct = verify.forward_mode(forward, values, [p.symbol for p in network.parameters], network.loss)
    checks = []
    for parameter in network.parameters:
        gradient = deriver.values[QuantitySymbol("gradient", parameter.name)]
        forward_mode = sympy.Float(str(direct[parameter.symbol]), PRECISION)
        finite = verify.finite_difference(forward, values, parameter.symbol, parameter.value, network.loss)
        checks.append(Check(parameter.name, gradient, forward_mode, finite,
                            verify.relative(gradient, forward_mode, verify.DIRECT_FLOOR),
                            verify.relative(gradient, finite, verify.FINITE_FLOOR)))
    return checks
