"""The Program: exact runs and compiled float code, checked against independent figures
(../shared/reference, computed with PyTorch; and central finite differences of the independent float model)."""
import math

import pytest
import sympy

import derive
from derive.numbers import EvaluationError
from derive.program import Program
from derive.quantities import QuantitySymbol
from reference_model import Model
from test_gradients import SEEDS, random_spec


def classic():
    return derive.derive(derive.example("classic"))


def test_compiled_classic_matches_the_reference(reference):
    derivation = classic()
    values = derivation.program.compile()(derivation.network.given_values())
    for unit, figures in reference["forward"].items():
        assert math.isclose(values[QuantitySymbol("out", unit)], figures["out"], rel_tol=1e-13)
    for name, gradient in reference["gradient"].items():
        assert math.isclose(values[QuantitySymbol("gradient", name)], gradient, rel_tol=1e-12)
        assert math.isclose(values[QuantitySymbol("update", name)], reference["updated"][name], rel_tol=1e-13)
    assert math.isclose(values[QuantitySymbol("after_loss")], reference["loss_after_update"], rel_tol=1e-12)


def test_ten_thousand_compiled_updates_reach_the_reference(reference):
    """Feeding each update back as the next step's parameters: the published 10,000-step figures."""
    derivation = classic()
    network = derivation.network
    parameters = [p.symbol for p in network.parameters]
    step = derivation.program.compile([p.after for p in parameters] + [network.output_layer.units[0].out])
    values = {symbol: float(value) for symbol, value in network.given_values().items()}
    for _ in range(reference["train_10000"]["steps"]):
        results = step(values)
        values.update({p: results[p.after] for p in parameters})
    expected = reference["train_10000"]["params"]
    for parameter in network.parameters:
        assert math.isclose(values[parameter.symbol], expected[parameter.name], rel_tol=1e-9, abs_tol=1e-12)
    final = derivation.program.compile([u.out for u in network.output_layer.units])(values)
    for unit in network.output_layer.units:
        assert math.isclose(final[unit.out], reference["train_10000"]["outputs"][unit.name], rel_tol=1e-9)


@pytest.mark.parametrize("seed", SEEDS[::4])
def test_compiled_gradients_match_finite_differences(seed):
    text = random_spec(seed)
    model = Model(text)
    derivation = derive.derive(derive.load_text(text))
    values = derivation.program.compile()(derivation.network.given_values())
    assert math.isclose(values[derivation.network.loss], model.loss(), rel_tol=1e-12, abs_tol=1e-15)
    for name in model.params:
        assert math.isclose(values[QuantitySymbol("gradient", name)], model.finite_difference(name),
                            rel_tol=1e-6, abs_tol=1e-8), name


def test_only_what_is_wanted_is_compiled():
    derivation = classic()
    network = derivation.network
    wanted = [network.loss]
    compiled = derivation.program.compile(wanted)
    assert compiled.outputs == (network.loss,)
    # The loss needs the forward pass only: no gradient, no learning rate among its inputs.
    assert network.learning_rate not in compiled.inputs
    assert "eta" not in compiled.source
    assert set(compiled.inputs) <= set(network.given_values())


def test_common_subexpressions_are_computed_once():
    program = Program(((sympy.Symbol("a", real=True), sympy.exp(sympy.Symbol("x", real=True)) + 1),
                       (sympy.Symbol("b", real=True), sympy.exp(sympy.Symbol("x", real=True)) * 2)))
    compiled = program.compile()
    assert compiled.source.count("math.exp") == 1
    result = compiled({sympy.Symbol("x", real=True): 0.5})
    assert result[sympy.Symbol("a", real=True)] == pytest.approx(math.exp(0.5) + 1)
    assert result[sympy.Symbol("b", real=True)] == pytest.approx(2 * math.exp(0.5))


def test_a_value_without_a_finite_result_is_an_evaluation_error():
    x, y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)
    compiled = Program(((y, sympy.log(x)),)).compile()
    assert compiled({x: 2.0})[y] == pytest.approx(math.log(2))
    with pytest.raises(EvaluationError):
        compiled({x: -1.0})


def test_exact_run_and_replaced_definitions():
    derivation = classic()
    program, given = derivation.program, derivation.network.given_values()
    loss = derivation.network.loss
    exact = program.run(given, wanted=[loss])
    assert exact[loss] == derivation.values[loss]
    fixed = QuantitySymbol("out", "o1")
    replaced = program.run(given, replaced={fixed: sympy.Rational(1, 2)}, wanted=[loss])
    target = given[QuantitySymbol("target", "o1")]
    assert replaced[loss] == sympy.Rational(1, 2) * (target - sympy.Rational(1, 2)) ** 2 + \
        derivation.values[QuantitySymbol("loss_term", "o2")]


def test_the_update_rule_is_a_catalogue_entry():
    from derive.functions import UPDATE_RULES, update_rule
    assert "sgd" in UPDATE_RULES
    derivation = classic()
    eta = derivation.network.learning_rate
    for parameter in derivation.network.parameters:
        if parameter.trainable:
            gradient = derivation.values[QuantitySymbol("gradient", parameter.name)]
            expected = parameter.value - derivation.values[eta] * gradient
            assert derivation.values[parameter.symbol.after] == expected
    with pytest.raises(derive.errors.SpecError):
        update_rule("no_such_rule")


def test_only_our_variables_and_maths_reach_the_compiler():
    """Whatever a tree holds, the source that is compiled has no name but v<n>, keywords and math's functions."""
    from derive.functions import Summed, activation, shown
    from derive.program import _check_source
    x, y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)
    # A symbol of any kind is renamed (SymPy prints a Dummy by its own name otherwise).
    assert "evil" not in Program(((y, sympy.Dummy("evil") + x),)).compile().source
    # Display-only functions (their class names hold a formula's text) and unknown functions are refused.
    for unprintable in (shown(activation("x/(1+abs(x))"))(x), Summed(x, x), sympy.Function("system")(x)):
        with pytest.raises(Exception) as raised:
            Program(((y, unprintable),)).compile()
        assert not isinstance(raised.value, AssertionError)
    for hostile in ('def program(v0):\n    return (os.system("x"), )\n', 'def program(v0):\n    return (v0.__class__, )\n',
                    'def program(v0):\n    return (math.__loader__, )\n', 'def program(v0):\n    return ("text", )\n',
                    'def program(v0):\n    return (eval, )\n'):
        with pytest.raises(ValueError):
            _check_source(hostile)


def test_definitions_compiled_each_on_its_own_give_the_reference_figures(reference):
    from derive.program import compile_each
    derivation = derive.derive(derive.example("classic"))
    definitions = list(derivation.program)
    values = {symbol: float(value) for symbol, value in derivation.network.given_values().items()}
    for (symbol, _), compiled in zip(definitions, compile_each(definitions)):  # in program order
        values.update(compiled(values))
    for unit, figures in reference["forward"].items():
        assert values[QuantitySymbol("out", unit)] == pytest.approx(figures["out"], rel=1e-13)
    for name, gradient in reference["gradient"].items():
        assert values[QuantitySymbol("gradient", name)] == pytest.approx(gradient, rel=1e-12)
    with pytest.raises(ValueError):
        compile_each([(definitions[0][0], definitions[0][0] + 1)])  # a definition that uses itself


def test_the_float_program_replays_the_classic_and_its_replacements(reference):
    from derive.program import FloatProgram
    derivation = derive.derive(derive.example("classic"))
    floats = FloatProgram(derivation.program)
    given = {symbol: float(value) for symbol, value in derivation.network.given_values().items()}
    values = floats.run(given)
    for unit, delta in reference["delta"].items():
        assert values[QuantitySymbol("delta", unit)] == pytest.approx(delta, rel=1e-12)
    # δ_o1 without f′ (the checker's derivative_left_out), replayed downstream: ∂E/∂w5 = (out_o1 − t_o1)·out_h1
    replaced = FloatProgram.compile({QuantitySymbol("delta", "o1"): QuantitySymbol("dE_dout", "o1")})
    changed = floats.run(given, replaced, [QuantitySymbol("gradient", "w5")])
    out = reference["forward"]
    assert changed[QuantitySymbol("gradient", "w5")] == pytest.approx((out["o1"]["out"] - 0.01) * out["h1"]["out"],
                                                                      rel=1e-12)
    assert QuantitySymbol("gradient", "w1") not in changed  # only what is wanted is computed


def test_the_checker_screens_mistakes_in_floats_without_changing_a_verdict():
    import json
    from derive.check import Judge
    from derive.render.report import render_report
    from derive.check.report import Report
    derivation = derive.derive(derive.example("classic"))
    claims = ["delta_o1 = out_o1 - target_o1", "E_new = 0.291027924", "dE/dw5 = delta_o1 * net_h1",
              "delta_o1 = 0.2", "w6_new = w7 - eta*dE/dw6", "delta_h1 = 0.00877", "out_h1 = 0.7"]
    screened, exact = Judge(derivation), Judge(derivation)
    exact.variant_float = lambda index, symbol: None  # every variant replayed exactly
    reports = [render_report(Report(derivation, tuple(judge.judge_all(claims, carry_forward=True)), False), "json")
               for judge in (screened, exact)]
    assert reports[0] == reports[1]
    assert any(claim["diagnosis"] for claim in json.loads(reports[0])["claims"])
