"""The derivation as a program: every quantity defined from the ones before it, run exactly or compiled.

A :class:`Program` is the ordered list of (quantity, defining expression) a
derivation computes: forward pass, loss, backward pass, updates, and the
forward pass with the updated parameters. Its given quantities (inputs,
targets, parameters, learning rate) have no definition.

* :meth:`Program.run` evaluates it exactly (rationals, or 50-digit floats) at
  any values: how claims are judged at random points, how a classic mistake is
  replayed (a few definitions replaced), how an error is carried forward.
* :meth:`Program.compile` turns it into plain float code for speed (training
  runs thousands of steps). The code is generated only from the SymPy trees
  derive built itself, after common-subexpression elimination; every quantity
  is renamed to a local variable (v0, v1, ...), so no name a user typed, and no
  text a user typed, ever reaches the generated source. Before it is compiled,
  the source is checked token by token to hold nothing but those variables,
  numbers, operators, a few keywords and builtins, and math's functions; it
  runs with only those builtins.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping

import sympy
from sympy.printing.pycode import PythonCodePrinter

from .numbers import PRECISION, EvaluationError, evaluate
from .safecode import _check_source, compile_checked  # noqa: F401  (_check_source: the tests try it)

Definition = tuple[sympy.Symbol, sympy.Expr]


@dataclass(frozen=True)
class Program:
    """The ordered definitions of a derivation (see the module docstring). Iterating gives (quantity, definition)."""

    definitions: tuple[Definition, ...]

    def __iter__(self) -> Iterator[Definition]:
        return iter(self.definitions)

    def __len__(self) -> int:
        return len(self.definitions)

    def run(self, given: Mapping[sympy.Symbol, sympy.Expr], replaced: Mapping[sympy.Symbol, sympy.Expr] | None = None,
            wanted: Iterable[sympy.Symbol] | None = None, precision: int = PRECISION) -> dict[sympy.Symbol, sympy.Expr]:
        """Return the exact values of `wanted` (default: every quantity) and of all they depend on; see :func:`run`."""
        return run(self.definitions, given, replaced, wanted, precision)

    def compile(self, wanted: Iterable[sympy.Symbol] | None = None) -> "CompiledProgram":
        """Return the program as float code computing `wanted` (default: every quantity) from the given values."""
        return compile_program(self.definitions, wanted)


def run(program: Iterable[Definition], given: Mapping[sympy.Symbol, sympy.Expr],
        replaced: Mapping[sympy.Symbol, sympy.Expr] | None = None, wanted: Iterable[sympy.Symbol] | None = None,
        precision: int = PRECISION) -> dict[sympy.Symbol, sympy.Expr]:
    """Return the values of `wanted` (default: every quantity) and of all they depend on.

    `given` holds the values of inputs, targets, parameters and the learning
    rate; `replaced` maps quantities to definitions used instead of the
    program's (a constant fixes a value). Only what `wanted` needs is computed,
    in dependency order, so a replaced definition may use any quantity.
    Raises EvaluationError for a value that is not finite and real, or a cycle.
    """
    definitions = dict(program)
    definitions.update(replaced or {})
    values = dict(given)

    def compute(symbol):
        values[symbol] = evaluate(definitions[symbol], values, what=str(symbol), precision=precision)

    in_order(definitions, values, wanted, lambda symbol: free_symbols(definitions[symbol]), compute)
    return values


_FREE: dict = {}


def free_symbols(expression: sympy.Expr) -> frozenset:
    """Return expression.free_symbols, kept for each of derive's definitions (SymPy computes it anew each time)."""
    found = _FREE.get(expression)
    if found is None:
        if len(_FREE) > 8192:
            _FREE.clear()
        found = _FREE[expression] = frozenset(expression.free_symbols)
    return found


def in_order(definitions: Mapping, values: Mapping, wanted: Iterable[sympy.Symbol] | None,
             uses: Callable[[sympy.Symbol], Iterable[sympy.Symbol]], compute: Callable[[sympy.Symbol], None]) -> None:
    """Call compute(symbol) for every quantity of `wanted` (default: every one of `definitions`) and all they
    depend on (`uses(symbol)`), each once, after what it uses; a quantity in `values` (which compute fills)
    is known already. ValueError for definitions that form a cycle."""
    for target in (list(wanted) if wanted is not None else list(definitions)):
        stack, visiting = [target], set()
        while stack:
            symbol = stack[-1]
            if symbol in values or symbol not in definitions:
                stack.pop()
                continue
            missing = [s for s in uses(symbol) if s not in values and s in definitions]
            if missing:
                if symbol in visiting:
                    raise ValueError(f"the definitions of {symbol} form a cycle")
                visiting.add(symbol)
                stack.extend(missing)
                continue
            compute(symbol)
            stack.pop()


# compiled ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledProgram:
    """A program as float code: `function(*inputs)` returns the values of `outputs`, in order.

    Calling the object with a mapping of the given quantities' values returns
    a dict of the outputs' values. `source` is the generated Python code.
    """

    inputs: tuple[sympy.Symbol, ...]
    outputs: tuple[sympy.Symbol, ...]
    source: str
    function: Callable[..., tuple[float, ...]] = field(repr=False)

    def __call__(self, values: Mapping[sympy.Symbol, float]) -> dict[sympy.Symbol, float]:
        try:
            results = self.function(*[float(values[symbol]) for symbol in self.inputs])
        except (ValueError, OverflowError, ZeroDivisionError) as error:
            raise EvaluationError("error_program_no_value", problem=error) from None
        bad = [symbol for symbol, value in zip(self.outputs, results) if not math.isfinite(value)]
        if bad:
            raise EvaluationError("error_program_not_finite", name=bad[0])
        return dict(zip(self.outputs, results))


MAX_ORDERS = 4096  # replay orders a FloatProgram keeps


class FloatProgram:
    """The program as one compiled float function per definition: to replay it many times with a few
    definitions replaced (the checker's mistakes), each replacement compiled once, in floats.

    The definitions are compiled when a run first needs one. Only derive's own trees are compiled (see
    :func:`compile_each`). Values are floats: a screen before the exact replay of :func:`run`, which
    decides.
    """

    def __init__(self, program: Iterable[Definition]):
        self.expressions = dict(program)
        self.definitions = _Compiled(self.expressions)
        self._users: dict[sympy.Symbol, list[sympy.Symbol]] = {}
        for symbol, expression in self.expressions.items():
            for used in expression.free_symbols:
                self._users.setdefault(used, []).append(symbol)
        self._orders: dict[tuple, tuple] = {}  # replaced quantities -> the order to replay what they change
        self.position: dict[sympy.Symbol, int] = {}  # each quantity's place in an order that computes it after its inputs
        in_order(self.expressions, self.position, None, lambda symbol: self.expressions[symbol].free_symbols,
                 lambda symbol: self.position.setdefault(symbol, len(self.position)))

    @staticmethod
    def compile(replaced: Mapping[sympy.Symbol, sympy.Expr]) -> dict[sympy.Symbol, CompiledProgram]:
        """Return replacement definitions compiled, for :meth:`run` and :meth:`replay`."""
        return dict(zip(replaced, compile_each(replaced.items())))

    @staticmethod
    def compile_all(variants: Iterable[Mapping[sympy.Symbol, sympy.Expr]]) -> list[dict[sympy.Symbol, CompiledProgram] | None]:
        """Return :meth:`compile` of each of many sets of replacement definitions, compiled in one piece; None
        for a set that cannot be compiled."""
        variants = list(variants)
        try:
            compiled = iter(compile_each((s, e) for replaced in variants for s, e in replaced.items()))
            return [{symbol: next(compiled) for symbol in replaced} for replaced in variants]
        except ValueError:  # one of them: compile each set alone
            results = []
            for replaced in variants:
                try:
                    results.append(FloatProgram.compile(replaced))
                except ValueError:
                    results.append(None)
            return results

    def run(self, given: Mapping[sympy.Symbol, float], replaced: Mapping[sympy.Symbol, CompiledProgram] | None = None,
            wanted: Iterable[sympy.Symbol] | None = None) -> dict[sympy.Symbol, float]:
        """Return the float values of `wanted` (default: every quantity) and of all they depend on, with the
        `replaced` definitions (from :meth:`compile`) used instead of the program's; EvaluationError for a
        value that is not a finite float."""
        definitions = _Compiled(self.expressions, self.definitions, replaced)
        values = {symbol: float(value) for symbol, value in given.items()}

        def compute(symbol):
            values[symbol] = definitions[symbol](values)[symbol]

        in_order(self.expressions if not replaced else {**self.expressions, **replaced}, values, wanted,
                 lambda symbol: definitions[symbol].inputs, compute)
        return values

    def replay(self, base: Mapping[sympy.Symbol, float], replaced: Mapping[sympy.Symbol, CompiledProgram],
               changed: Iterable[sympy.Symbol] | None = None) -> dict[sympy.Symbol, float]:
        """Return every quantity's float value with the `replaced` definitions, starting from `base` (the
        givens' and every quantity's values, from :meth:`run` or exact): only what the replaced definitions
        change is computed again. With `changed` (some of the replaced quantities), only what those change:
        `base` then holds the values the other replacements give already (a replay of them). A value floats
        cannot compute is NaN, and so is everything that uses it; ValueError when the replaced definitions
        form a cycle."""
        definitions = _Compiled(self.expressions, self.definitions, replaced)
        starting = replaced if changed is None else {symbol: replaced[symbol] for symbol in changed}
        key = (tuple((symbol, compiled.inputs) for symbol, compiled in starting.items()),
               () if changed is None else tuple((s, c.inputs) for s, c in replaced.items() if s not in starting))
        order = self._orders.get(key)
        if order is None:
            order = self._order(starting, definitions, key, replaced)
        values = dict(base)
        for symbol in order:  # every affected quantity, after what it uses
            compiled = definitions[symbol]
            try:
                value = compiled.function(*[values[used] for used in compiled.inputs])[0]
            except (ValueError, OverflowError, ZeroDivisionError, TypeError, KeyError):
                value = math.nan
            values[symbol] = value if isinstance(value, float) else math.nan  # a complex power is no value
        return values

    def _order(self, starting: Mapping[sympy.Symbol, CompiledProgram], definitions: "_Compiled", key: tuple,
               replaced: Mapping[sympy.Symbol, CompiledProgram]) -> tuple:
        """Return the quantities that change from `starting` on (of the `replaced` definitions), in an order
        that computes each after what it uses (kept under `key` when the program's own order serves)."""
        affected, frontier = set(starting), list(starting)
        while frontier:
            for user in self._users.get(frontier.pop(), ()):
                if user not in affected:
                    affected.add(user)
                    frontier.append(user)
        for symbol, compiled in replaced.items():  # a replaced definition that uses a changed quantity changes
            if symbol not in affected and any(used in affected for used in compiled.inputs):
                return self._order({**starting, symbol: compiled}, definitions, key, replaced)
        position = self.position
        if all(symbol in position and all(position.get(used, -1) < position[symbol]
                                          for used in compiled.inputs if used in affected)
               for symbol, compiled in replaced.items() if symbol in affected):
            # The program's own order still holds: each replaced definition uses only what comes before it.
            order = tuple(sorted(affected, key=position.__getitem__))
            if len(self._orders) < MAX_ORDERS:
                self._orders[key] = order  # the same quantities replaced, using the same inputs: the same order
            return order
        # A replaced definition uses a quantity that comes later: find an order that computes it first.
        found: list = []
        known = {symbol: None for symbol in self.expressions if symbol not in affected}
        in_order({**self.expressions, **replaced}, known, list(affected), lambda symbol: definitions[symbol].inputs,
                 lambda symbol: (found.append(symbol), known.__setitem__(symbol, None)))
        return tuple(found)


class _Compiled:
    """The compiled definitions of a FloatProgram, compiled when one is first asked for (and kept in `kept`,
    shared by every run); `replaced` ones (compiled already) come first."""

    def __init__(self, expressions: Mapping, kept: "_Compiled | None" = None,
                 replaced: Mapping[sympy.Symbol, CompiledProgram] | None = None):
        self.expressions, self.replaced = expressions, replaced or {}
        self.kept: dict[sympy.Symbol, CompiledProgram] = {} if kept is None else kept.kept

    def __getitem__(self, symbol: sympy.Symbol) -> CompiledProgram:
        if symbol in self.replaced:
            return self.replaced[symbol]
        compiled = self.kept.get(symbol)
        if compiled is None:  # the first one asked for: every definition, compiled in one piece
            self.kept.update(zip(self.expressions, compile_each(self.expressions.items())))
            compiled = self.kept[symbol]
        return compiled


class VariablePrinter:
    """Code for one of derive's expressions, every symbol written as the local variable it was given (`names`)
    and every number as a float literal: mixed into SymPy's Python printer here, its NumPy printer in
    derive.matrix."""

    def __init__(self, names: Mapping[sympy.Symbol, str]):
        super().__init__({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": False,
                          "strict": True})
        self.names = names

    def _print_Symbol(self, expr):
        if expr not in self.names:
            raise ValueError(f"the program uses {expr}, which it neither defines nor is given")
        return self.names[expr]

    # Every kind of symbol (SymPy's Dummy and Wild print their names by methods of their own) is a variable.
    _print_Dummy = _print_Wild = _print_Symbol

    def _print_Rational(self, expr):
        return f"({int(expr.p)}/{int(expr.q)})"

    def _print_Integer(self, expr):
        return f"{int(expr)}.0" if abs(int(expr)) < 2 ** 53 else repr(float(expr))

    def _print_Float(self, expr):
        return repr(float(expr))


# The functions of one argument the printer writes itself, as math's (every other node: SymPy's printer).
_MATH_FUNCTIONS = {sympy.exp: "math.exp", sympy.log: "math.log", sympy.tanh: "math.tanh", sympy.sinh: "math.sinh",
                   sympy.cosh: "math.cosh", sympy.sin: "math.sin", sympy.cos: "math.cos", sympy.atan: "math.atan",
                   sympy.erf: "math.erf"}
_HALF = sympy.Rational(1, 2)


class _Printer(VariablePrinter, PythonCodePrinter):
    """Python code for one of derive's expressions (math's functions).

    The nodes derive's programs are made of (symbols, numbers, sums, products, powers, math's functions of
    one argument) are written here directly, every operand that is not a symbol or a number in parentheses,
    a product's negative powers as a division: a tenth of the time SymPy's printer takes, which the checker
    pays for every definition and every mistake's. Any other node (Piecewise, Max, sign, …) is SymPy's
    printer's, as before.
    """

    def doprint(self, expr, assign_to=None):
        if assign_to is not None:
            return super().doprint(expr, assign_to)
        return self._code(expr)

    def _code(self, node) -> str:
        if node.is_Symbol:
            return self._print_Symbol(node)
        if node.is_Number and (node.is_Rational or node.is_Float):
            text = self._print(node)
            return text if not node.is_negative or text.startswith("(") else f"({text})"
        if node.is_Add:
            return "(" + " + ".join(self._code(term) for term in node.args) + ")"
        if node.is_Mul:
            above, below = [], []
            for factor in node.args:
                if factor.is_Pow and factor.exp.is_Rational and factor.exp.is_negative:
                    below.append(self._code(factor.base) if factor.exp == -1 else self._power(factor.base, -factor.exp))
                else:
                    above.append(self._code(factor))
            text = "*".join(above) or "1.0"
            return f"({text}/({'*'.join(below)}))" if below else f"({text})"
        if node.is_Pow:
            return self._power(node.base, node.exp)
        name = _MATH_FUNCTIONS.get(node.func)
        if name is not None and len(node.args) == 1:
            return f"{name}({self._code(node.args[0])})"
        return f"({super().doprint(node)})"

    def _power(self, base, exponent) -> str:
        if exponent == _HALF:
            return f"math.sqrt({self._code(base)})"
        if base is sympy.E:
            return f"math.exp({self._code(exponent)})"
        return f"({self._code(base)}**{self._code(exponent)})"


def compile_program(definitions: Iterable[Definition], wanted: Iterable[sympy.Symbol] | None = None) -> CompiledProgram:
    """Return `definitions` compiled into float code for `wanted` (default: every defined quantity).

    Only the definitions `wanted` needs are kept; common subexpressions are
    computed once (sympy.cse), and every assignment comes after what it uses.
    """
    definitions = list(definitions)
    defined = {symbol: expression for symbol, expression in definitions}
    outputs = tuple(wanted) if wanted is not None else tuple(symbol for symbol, _ in definitions)
    needed, stack = set(), list(outputs)
    while stack:
        symbol = stack.pop()
        if symbol in needed or symbol not in defined:
            continue
        needed.add(symbol)
        stack.extend(defined[symbol].free_symbols)
    kept = [(symbol, expression) for symbol, expression in definitions if symbol in needed]
    used = set().union(*(expression.free_symbols for _, expression in kept)) if kept else set()
    given = [symbol for symbol in sorted(used - set(defined), key=sympy.default_sort_key)]
    given += [symbol for symbol in outputs if symbol not in defined and symbol not in given]
    counter = iter(range(10 ** 9))
    temporaries = sympy.numbered_symbols("cse", real=True)
    replacements, reduced = sympy.cse([expression for _, expression in kept], symbols=temporaries, order="none")
    assignments = list(replacements) + [(symbol, expression) for (symbol, _), expression in zip(kept, reduced)]
    names = {symbol: f"v{next(counter)}" for symbol in given}
    names.update({symbol: f"v{next(counter)}" for symbol, _ in assignments})
    printer = _Printer(names)
    lines = [f"def program({', '.join(names[s] for s in given)}):"]
    for symbol, expression in _in_dependency_order(assignments):
        lines.append(f"    {names[symbol]} = {printer.doprint(expression)}")
    lines.append(f"    return ({''.join(names[s] + ', ' for s in outputs)})")
    source = "\n".join(lines) + "\n"
    # The source is built only from derive's own SymPy trees, every symbol renamed to v<number>;
    # safecode checks it holds nothing else (no name but those, no text at all) before compiling it.
    namespace = compile_checked(source, "<derive program>")
    return CompiledProgram(tuple(given), outputs, source, namespace["program"])


def compile_each(definitions: Iterable[Definition]) -> list[CompiledProgram]:
    """Return each definition compiled on its own (in their order: a program computing it from what its
    expression uses), all in one piece of generated code, checked and compiled once: many small definitions cost one
    compilation. Without common-subexpression elimination (each is one expression, evaluated a few times);
    ValueError when one cannot be compiled."""
    definitions = list(definitions)
    lines, made = [], []
    for number, (symbol, expression) in enumerate(definitions):
        used = sorted(expression.free_symbols, key=sympy.default_sort_key)
        if symbol in used:
            raise ValueError(f"the definition of {symbol} uses itself")
        names = {s: f"v{index}" for index, s in enumerate(used)}
        names[symbol] = f"v{len(used)}"
        lines.append(f"def f{number}({', '.join(names[s] for s in used)}):")
        lines.append(f"    return ({_Printer(names).doprint(expression)},)")
        made.append((symbol, tuple(used)))
    source = "\n".join(lines) + "\n"
    # As in compile_program: only derive's own trees, every symbol a v<number>, checked by safecode.
    namespace = compile_checked(source, "<derive definitions>", functions=len(definitions))
    return [CompiledProgram(used, (symbol,), lines[2 * number] + "\n" + lines[2 * number + 1] + "\n",
                            namespace[f"f{number}"]) for number, (symbol, used) in enumerate(made)]


def _in_dependency_order(assignments: list[Definition]) -> list[Definition]:
    """Return the assignments so that each comes after every assignment it uses, otherwise in their order."""
    position = {symbol: index for index, (symbol, _) in enumerate(assignments)}
    placed, ordered = set(), []
    for index in range(len(assignments)):
        stack = [index]
        while stack:
            current = stack[-1]
            symbol, expression = assignments[current]
            if symbol in placed:
                stack.pop()
                continue
            waiting = sorted(position[s] for s in expression.free_symbols if s in position and s not in placed)
            if waiting:
                stack.extend(reversed(waiting))
                continue
            placed.add(symbol)
            ordered.append((symbol, expression))
            stack.pop()
    return ordered
