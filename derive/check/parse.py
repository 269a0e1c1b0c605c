"""Claim text -> Claim: parsed by our own LALR grammar (claims.lark), built into SymPy directly.

Student text is untrusted. It is never evaluated: the parse tree is walked
(without recursion, so nesting cannot exhaust the stack) and each node becomes
a SymPy object from a whitelist; names resolve only to the network's own
symbols (:mod:`derive.check.vocabulary`). Work is bounded before SymPy sees
anything: length, nesting depth, and the size of numbers a power can make.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import lark
import sympy
from lark.visitors import Transformer_NonRecursive

from .. import cache
from ..formula import FUNCTIONS
from ..functions import ACTIVATION_ALIASES, ACTIVATIONS, ShownBase, activation, shown
from ..quantities import CLAIM_FUNCTIONS, NET, SLOPE, QuantitySymbol
from .messages import Message
from .vocabulary import ClaimError, Vocabulary, Written

MAX_LENGTH = 4000      # characters in one claim
MAX_DEPTH = 60         # nesting of the expression built
MAX_EXPONENT = 64      # largest numeric exponent
MAX_NUMBER_BITS = 20000  # largest exact number a power may produce
MAX_DECIMAL_EXPONENT = 300  # 1e300 is the largest number written in e-notation
MAX_EXP_ARGUMENT = 1000    # exp(1000) is the largest exponential of a number
MAX_TRACED_NUMBERS = 40    # rounding is propagated through computations with at most this many numbers

# Claim-language spellings the hints show (data: the same in every language).
LEFT_SIDE_EXAMPLES = "net_h1, out_o1, E, delta_o1, dE/dw5, w5_new, E_new"
LATEX_COMMANDS = "\\frac, \\cdot, \\times, \\left( \\right), \\delta, \\eta, \\sigma, \\exp, \\ln"
OPERATORS = "+ - * / ^"
EQUALS_SIGN = re.compile(r"=|≈|\\approx(?![A-Za-z])")  # what separates a chain's sides (claims.lark's EQUALS)


def sides(text: str) -> list[str]:
    """Return a chain's sides as written: the quantity, then each part."""
    return [side.strip() for side in EQUALS_SIGN.split(text)]


class ClaimTooLarge(ClaimError):
    """A claim within the grammar but beyond the work we allow: judged 'undecided', not 'unreadable'."""


@dataclass(frozen=True)
class Part:
    """One right-hand side of a claim: the expression as written, and the number as written if it is one."""

    expression: sympy.Expr
    literal: str | None = None      # the number as written, when the part is one number
    # A part of several numbers (0.15*0.05 + 0.35) as written: each number a symbol, `numbers` its value;
    # kept as a recipe (see _recipe) so that it survives pickling unevaluated (marking in processes).
    recipe: tuple | None = field(default=None, compare=False)
    numbers: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def written(self) -> sympy.Expr | None:
        """Return the part as written (an unevaluated SymPy expression of number symbols), or None."""
        return None if self.recipe is None else _made(self.recipe)

    @property
    def is_number(self) -> bool:
        return not self.expression.free_symbols


@dataclass(frozen=True)
class Claim:
    """QUANTITY = part (= part ...): the quantity symbol claimed, and what it is claimed to equal."""

    text: str
    quantity: sympy.Symbol
    parts: tuple[Part, ...]
    numbers: dict = field(default_factory=dict, hash=False)  # with trace_numbers: symbol -> (value, half unit)
    vocabulary: Vocabulary | None = field(default=None, compare=False, hash=False, repr=False)  # it was read in


_VULGAR = {"½": sympy.Rational(1, 2), "⅓": sympy.Rational(1, 3), "⅔": sympy.Rational(2, 3), "¼": sympy.Rational(1, 4),
           "¾": sympy.Rational(3, 4), "⅛": sympy.Rational(1, 8)}


def _grammar() -> str:
    grammar = resources.files("derive.check").joinpath("claims.lark").read_text(encoding="utf-8")
    # Longest first, so that no name is read as a shorter one it begins with.
    names = sorted({*FUNCTIONS, *CLAIM_FUNCTIONS, *PRINTED_FUNCTIONS}, key=lambda name: (-len(name), name))
    assert all(name.isidentifier() for name in names)  # catalogue names, safe inside the regular expression
    return grammar.replace("@FUNCTION_NAMES@", "|".join(names))


@lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    """Return the claim parser. Building its LALR tables is most of the cost of the first claim a process
    reads, so they are kept in derive's cache (as JSON data, keyed by the grammar and Lark's version) and
    rebuilt where the entry is missing or cannot be read; the parser reads the same either way."""
    grammar, options = _grammar(), {"parser": "lalr", "maybe_placeholders": False}
    name = cache.key(grammar, lark.__version__, repr(sorted(options.items())))
    stored = cache.load_json("parsers", name)
    if isinstance(stored, dict):
        try:
            return lark.Lark._load_from_dict(cache.untagged(stored.get("data")), cache.untagged(stored.get("memo")))
        except Exception:  # noqa: BLE001 — an entry Lark cannot rebuild from is only a miss
            pass
    parser = lark.Lark(grammar, **options)
    data, memo = parser.memo_serialize([lark.lexer.TerminalDef, lark.grammar.Rule])
    cache.store_json("parsers", name, {"data": cache.tagged(data), "memo": cache.tagged(memo)})
    return parser


_RELATIONS = {">": sympy.StrictGreaterThan, "gt": sympy.StrictGreaterThan, "<": sympy.StrictLessThan,
              "lt": sympy.StrictLessThan, "≥": sympy.GreaterThan, ">=": sympy.GreaterThan, "geq": sympy.GreaterThan,
              "ge": sympy.GreaterThan, "≤": sympy.LessThan, "<=": sympy.LessThan, "leq": sympy.LessThan,
              "le": sympy.LessThan}


@dataclass(frozen=True)
class _Partial:
    """∂name, waiting for the fraction bar that makes it a derivative."""

    written: Written


@dataclass(frozen=True)
class _Pending:
    """A product whose last factor is ∂name, waiting for the bar: ∂E/∂out_o1 · ∂out_o1/∂net_o1 reads as
    (∂E/∂out_o1)·(∂out_o1/∂net_o1), a chain of the chain rule's factors, not ((∂E/∂out_o1)·∂out_o1)/∂net_o1."""

    left: sympy.Expr
    partial: _Partial


def _position(token: lark.Token) -> int:
    return token.start_pos + 1


# The names derive's own documents print functions by (an activation's text name, SymPy's Max and Min), read as
# the functions they print: a worked example reads back. Only names of 3 letters or more (not `id`).
PRINTED_FUNCTIONS = {**{activation(name).text_name: name for name in ACTIVATIONS
                        if activation(name).text_name.isidentifier() and len(activation(name).text_name) >= 3
                        and activation(name).text_name != name},
                     "Max": "max", "Min": "min"}


def _canonical_function(text: str) -> str:
    name = text.lstrip("\\")
    return {"σ": "sigmoid", "sigma": "sigmoid", "ln": "log", **ACTIVATION_ALIASES, **PRINTED_FUNCTIONS}.get(name, name)


def _word(token: lark.Token) -> str:
    """Return a name as a word: δ and \\delta are delta, η and \\eta are eta."""
    return _GREEK_WORDS.get(str(token), str(token))


_GREEK_WORDS = {"δ": "delta", "\\delta": "delta", "η": "eta", "\\eta": "eta"}


def half_unit(literal: str) -> sympy.Rational:
    """Return half a unit in the last place of a number as written: 0.5933 ± 0.00005, 5933e-4 ± 0.00005;
    0 for an integer without an exponent, taken as exact."""
    mantissa, _, exponent = literal.lower().lstrip("+-").partition("e")
    if "." not in mantissa and not exponent:
        return sympy.Integer(0)
    return sympy.Rational(1, 2) * sympy.Integer(10) ** (int(exponent or 0) - len(mantissa.partition(".")[2]))


class _Builder(Transformer_NonRecursive):
    """Parse tree -> SymPy, one whitelisted construction per grammar rule."""

    def __init__(self, vocabulary: Vocabulary, trace_numbers: bool = False):
        super().__init__()
        self.vocabulary = vocabulary
        self.trace_numbers = trace_numbers
        self.numbers: dict[sympy.Dummy, tuple[sympy.Rational, sympy.Rational]] = {}

    # values ----------------------------------------------------------------
    def value(self, item) -> sympy.Expr:
        if isinstance(item, Written):
            return self.vocabulary.resolve(item)
        if isinstance(item, (_Partial, _Pending)):
            written = (item if isinstance(item, _Partial) else item.partial).written
            raise ClaimError("claim_partial_needs_bar", written.position, name=written.text)
        return item

    def _partial_of(self, item) -> _Partial | None:
        """Return ∂name for ∂name, and for a name the network does not know that is d run into one it does
        (dout_o1, dnet_o1, dw5, dEtotal: the d of dout_o1/dnet_o1); else None."""
        if isinstance(item, _Partial):
            return item
        if not isinstance(item, Written) or len(item.base) < 2 or item.base[0] != "d" or item.marked:
            return None
        rest = dataclasses.replace(item, base=item.base[1:], position=item.position + 1)
        for written, known in ((item, False), (rest, True)):
            try:
                self.vocabulary.resolve(written)
            except ClaimError:
                continue
            return _Partial(rest) if known else None
        return None

    def number(self, children):
        token = children[0]
        _, _, exponent = str(token).lower().partition("e")
        if exponent and abs(int(exponent)) > MAX_DECIMAL_EXPONENT:
            raise ClaimTooLarge("claim_number_out_of_range", _position(token), number=repr(str(token)[:20]))
        return self._traced(sympy.Rational(str(token)), half_unit(str(token)))

    def vulgar(self, children):
        return self._traced(_VULGAR[str(children[0])], sympy.Integer(0))  # exact, as ½ is

    def _traced(self, value: sympy.Rational, half: sympy.Rational) -> sympy.Expr:
        if not self.trace_numbers:
            return value
        # Each number as a symbol of its own, with its value and half a unit in its last written place.
        symbol = sympy.Dummy(f"number{len(self.numbers)}")
        self.numbers[symbol] = (value, half)
        return symbol

    def name(self, children):
        base, *rest = children
        primes = sum(part for part in rest if isinstance(part, int))
        tags = "".join(part for part in rest if isinstance(part, str))
        subscripts = tuple(part for s in rest if isinstance(s, tuple) for part in s)
        return Written(_word(base), subscripts, _position(base), primes=primes, tag=tags)

    def primed(self, children):
        text = str(children[0])
        return text.count("'") + text.count("′") + 2 * text.count("″") + text.count("\\prime")

    def tagged(self, children):  # ^{(2)} and ^{[2]} are the same mark: layer 2
        return f"^({''.join(character for character in str(children[0]) if character.isdigit())})"

    def base(self, children):  # \mathrm{net}
        return children[1]

    def subscript(self, children):
        return tuple(_word(child) for child in children)

    def subscript_item(self, children):  # \mathrm{total} in a subscript
        return children[-1]

    # arithmetic ------------------------------------------------------------
    def add(self, children):
        return self.value(children[0]) + self.value(children[2])

    def subtract(self, children):
        return self.value(children[0]) - self.value(children[2])

    def multiply(self, children):
        return self._times(children[0], children[2])

    def divide(self, children):
        return self._quotient(children[0], children[2], children[1])

    def fraction(self, children):
        return self._quotient(children[1], children[2], children[0])

    def _quotient(self, top, bottom, token):
        below = self._partial_of(bottom)
        if below is not None and isinstance(top, _Pending):
            return self._combine(top.left, self.vocabulary.derivative(top.partial.written, below.written))
        above = self._partial_of(top)
        if above is not None and below is not None:
            return self.vocabulary.derivative(above.written, below.written)
        return self._divide(self.value(top), self.value(bottom), token)

    def _divide(self, top, bottom, token):
        if bottom == 0:
            raise ClaimError("claim_division_by_zero", _position(token))
        return top / bottom

    def juxtapose(self, children):
        left, right = children
        if isinstance(left, Written) and left.text == "d" and isinstance(right, Written):
            return _Partial(right)  # "d E / d w5" written with spaces
        if isinstance(left, Written) and isinstance(right, Written) and not left.subscripts \
                and not right.subscripts and not left.marked and not right.marked \
                and self.vocabulary.is_unit_word(left.base, right.base):
            return dataclasses.replace(left, subscripts=(right.base,))  # δh1: δ run into its unit
        return self._times(left, right)

    def _times(self, left, right):
        partial = self._partial_of(right)
        if partial is not None and not isinstance(left, (_Partial, _Pending)):
            return _Pending(self.value(left), partial)
        return self._combine(self.value(left), self.value(right))

    def _combine(self, left, right):
        return left * right

    def negate(self, children):
        return -self.value(children[1])

    def positive(self, children):
        return self.value(children[1])

    def power(self, children):
        return self._power(self.value(children[0]), self.value(children[2]), children[1])

    def superscript(self, children):
        return self._power(self.value(children[0]), sympy.Integer("²³".index(str(children[1])) + 2), children[1])

    def _power(self, base, exponent, token):
        if exponent.is_number:
            if not exponent.is_real or abs(exponent) > MAX_EXPONENT:
                raise ClaimTooLarge("claim_exponent_too_large", _position(token), limit=MAX_EXPONENT)
            if base.is_Rational and exponent.is_Rational:
                bits = max(int(base.p).bit_length(), int(base.q).bit_length())
                if bits * abs(exponent) > MAX_NUMBER_BITS:
                    raise ClaimTooLarge("claim_number_too_large", _position(token))
        return base ** exponent

    def updated(self, children):
        item = children[0]
        if not isinstance(item, Written):
            raise ClaimError("claim_updated_not_a_name", _position(children[1]))
        return dataclasses.replace(item, updated=True)

    # functions and derivatives -------------------------------------------------
    def roman_call(self, children):  # \operatorname{ReLU}(x) is ReLU(x)
        return self.call(children[1:])

    def call_square(self, children):  # tanh²(x) is tanh(x)²
        token, square, argument = children
        return self.superscript([self.call([token, argument]), square])

    def conditional(self, children):  # (a if x > y; b otherwise)
        then, _, condition, otherwise, _ = children
        return self._piecewise(self.value(then), condition, self.value(otherwise))

    def indicator(self, children):  # [x > y]
        return self._piecewise(sympy.Integer(1), children[0], sympy.Integer(0))

    def _piecewise(self, then, condition, otherwise):
        # With numbers traced (each a symbol of its own) the condition cannot be decided: kept as written.
        return sympy.Piecewise((then, condition), (otherwise, True), evaluate=not self.trace_numbers)

    def condition(self, children):
        left, sign, right = children
        relation = _RELATIONS[str(sign).lstrip("\\")]
        return relation(self.value(left), self.value(right))  # (0.95 > 0 is true: SymPy decides numbers)

    def call_power(self, children):  # \tanh^2(x) is tanh(x)^2
        token, power, exponent, argument = children
        return self.power([self.call([token, argument]), power, exponent])

    def call(self, children):
        token, *arguments = children
        name = _canonical_function(str(token))
        arguments = [self.value(a) for a in arguments]
        if name in ACTIVATIONS and not isinstance(FUNCTIONS.get(name, (None, None))[1], sympy.FunctionClass):
            if len(arguments) != 1:
                raise ClaimError("claim_one_argument", _position(token), name=name)
            return shown(activation(name))(arguments[0])
        arity, build = FUNCTIONS[name]
        if len(arguments) != arity:
            raise ClaimError("claim_arguments", _position(token), name=name, arity=arity, count=len(arguments))
        return build(*arguments)

    def root(self, children):
        return sympy.sqrt(self.value(children[1]))

    def derivative_call(self, children):
        head, prime, argument = children
        argument = self.value(argument)
        if isinstance(head, lark.Token):  # sigmoid'(x), σ'(x), tanh'(x)
            name = _canonical_function(str(head))
            if name not in ACTIVATIONS:
                raise ClaimError("claim_unknown_derivative", _position(head), name=name)
            return shown(activation(name), prime=True)(argument)
        layer = self.vocabulary.network.layers[self._layer_of(argument, head) - 1]
        return shown(layer.activation, prime=True)(argument)

    def _layer_of(self, argument, head: Written) -> int:
        """The layer whose activation f'(…) means: the unit's, for f'(net_U); the only one, otherwise."""
        network = self.vocabulary.network
        if isinstance(argument, QuantitySymbol) and argument.kind is NET:
            layer = self.vocabulary.units[argument.subjects[0]].layer
        else:
            names = {layer.activation.name for layer in network.layers}
            if len(names) != 1:
                raise ClaimError("claim_ambiguous_derivative", head.position, Message("hint_ambiguous_derivative"),
                                 name=head.text)
            layer = 1
        if network.layers[layer - 1].activation.layer_wise:
            raise ClaimError("claim_softmax_derivative", head.position, Message("hint_softmax_derivative"))
        return layer

    def partial(self, children):
        return _Partial(children[1])

    def derivative(self, children):
        token, bottom = children
        top = Written("E", (), _position(token))
        return self.vocabulary.derivative(top, bottom)


class _WrittenBuilder(_Builder):
    """A part made of numbers built as it is written: every number a symbol, nothing combined or reordered
    (SymPy's unevaluated sums, products and powers), to be printed back for "read as"; never evaluated."""

    def add(self, children):
        return self._sum(self.value(children[0]), self.value(children[2]))

    def subtract(self, children):
        return self._sum(self.value(children[0]), self._negative(self.value(children[2])))

    def _combine(self, left, right):  # a product, with or without a sign
        return self._product(left, right)

    @staticmethod
    def _sum(left, right):  # a + b + c as one sum, as it reads, not (a + b) + c
        return sympy.Add(*(left.args if left.is_Add else (left,)), right, evaluate=False)

    @staticmethod
    def _product(left, right):
        return sympy.Mul(*(left.args if left.is_Mul else (left,)), right, evaluate=False)

    def _divide(self, top, bottom, token):
        return sympy.Mul(top, sympy.Pow(bottom, -1, evaluate=False), evaluate=False)

    def negate(self, children):
        return self._negative(self.value(children[1]))

    @staticmethod
    def _negative(value):
        return sympy.Mul(sympy.Integer(-1), value, evaluate=False)

    def power(self, children):
        return sympy.Pow(self.value(children[0]), self.value(children[2]), evaluate=False)



def _check_size(expression: sympy.Basic) -> None:
    """Raise ClaimTooLarge for an expression nested too deeply or with a power beyond MAX_EXPONENT.

    SymPy combines powers of powers and products of powers ((x^64)^64 is
    x^4096), so exponents are checked on the built expression, not only as written.
    """
    stack, nodes = [(expression, 1)], []
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ClaimTooLarge("claim_too_deep", limit=MAX_DEPTH)
        if node.is_Pow and node.exp.is_number and (not node.exp.is_real or abs(node.exp) > MAX_EXPONENT):
            raise ClaimTooLarge("claim_exponent_too_large", limit=MAX_EXPONENT)
        nodes.append(node)
        stack.extend((arg, depth + 1) for arg in node.args)
    for node in reversed(nodes):  # inner before outer: exp(exp(exp(100))) stops at the second exp
        if isinstance(node, sympy.exp) and node.args[0].is_number and \
                abs(node.args[0].evalf(15)) > MAX_EXP_ARGUMENT:
            raise ClaimTooLarge("claim_exp_too_large", limit=MAX_EXP_ARGUMENT)


def _check_traceable(tree: lark.Tree) -> None:
    """Raise ClaimTooLarge, before anything is built, for a claim whose numbers cannot be traced cheaply:
    more than MAX_TRACED_NUMBERS numbers, or nested more than MAX_DEPTH deep (with every number a symbol
    of its own, nothing folds away as it does when the numbers are combined)."""
    stack, numbers = [(tree, 1)], 0
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ClaimTooLarge("claim_too_deep", limit=MAX_DEPTH)
        if isinstance(node, lark.Tree):
            numbers += node.data == "number"
            if numbers > MAX_TRACED_NUMBERS:
                raise ClaimTooLarge("claim_too_many_numbers", limit=MAX_TRACED_NUMBERS)
            stack.extend((child, depth + 1) for child in node.children)


def _literal(tree) -> str | None:
    """Return the number as written when a part is just one (signed) number."""
    sign = ""
    while isinstance(tree, lark.Tree) and tree.data in ("negate", "positive"):
        sign += "-" if tree.data == "negate" else ""
        tree = tree.children[1]
    if isinstance(tree, lark.Tree) and tree.data == "number":
        return ("-" if len(sign) % 2 else "") + str(tree.children[0])
    return None


def _build(builder: _Builder, tree):
    try:
        return builder.transform(tree)
    except lark.exceptions.VisitError as error:
        raise error.orig_exc from None


_LONE_X = re.compile(r"(?<=[\w)\]}.])(\s+)x(\s+)(?=[\w(\[{.\\])")


# 8.7714 × 10^-4, 8.7714 x 10^{-4}, 8.7714 \times 10^{-4}: one number in scientific notation, as 8.7714e-4 is
_SCIENTIFIC = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?)\s*(?:[x×*·⋅]|\\times(?![A-Za-z])|\\cdot(?![A-Za-z]))\s*10\s*"
                         r"(?:\^|\*\*)\s*(?:\{\s*([-−+]?)\s*(\d{1,3})\s*\}|\(\s*([-−+]?)\s*(\d{1,3})\s*\)|([-−+]?)(\d{1,3}))"
                         r"(?![\d.])")


def _scientific(text: str) -> str:
    """Return `text` with each number written as a × 10^b made the one number aeb (its precision a's), padded
    with spaces to the same length, so positions in messages stay true."""
    def number(match: re.Match) -> str:
        sign = (match.group(2) or match.group(4) or match.group(6) or "").replace("−", "-")
        digits = match.group(3) or match.group(5) or match.group(7)
        return f"{match.group(1)}e{sign}{digits}".ljust(len(match.group(0)))
    return _SCIENTIFIC.sub(number, text) if "10" in text else text


def _times_sign(text: str, vocabulary: Vocabulary) -> str:
    """Return `text` with a lone x between two factors (`H1 x w7`, spaces on both sides) read as ×, when x
    names nothing in the network; the text keeps its length, so positions in messages stay true."""
    if " x " not in text and not re.search(r"\sx\s", text):
        return text
    if vocabulary is not None and vocabulary.names_x():
        return text
    return _LONE_X.sub(lambda match: f"{match.group(1)}×{match.group(2)}", text)


def written_name(text: str) -> Written | None:
    """Return `text` read as one name (`a_1'`, `w'_{11}`, `z^{[1]}_1`, `net_h1`), or None when it is not one."""
    if len(text) > MAX_LENGTH:
        return None
    try:
        tree = _parser().parse(f"{text} = 0")
    except lark.exceptions.LarkError:
        return None
    if len(tree.children) != 3 or not (isinstance(tree.children[0], lark.Tree) and tree.children[0].data == "name"):
        return None
    return _build(_Builder(None), tree.children[0])


def parse_claim(text: str, vocabulary: Vocabulary, trace_numbers: bool = False) -> Claim:
    """Return the Claim `text` makes about the network of `vocabulary`.

    With `trace_numbers`, every number written becomes a symbol of its own
    (Claim.numbers maps it to its value and half a unit in its last place),
    so the effect of rounding on a computed number can be bounded.
    Raises ClaimError (unreadable: with position and hint) or ClaimTooLarge.
    """
    if not isinstance(text, str) or not text.strip():
        raise ClaimError("claim_empty", None, Message("hint_empty", example="delta_o1 = 0.1385"))
    if len(text) > MAX_LENGTH:
        raise ClaimTooLarge("claim_too_long", limit=MAX_LENGTH)
    try:
        tree = _parser().parse(_times_sign(_scientific(text), vocabulary))
    except lark.UnexpectedInput as error:
        raise _unreadable(text, error) from None
    sides = [child for child in tree.children if not isinstance(child, lark.Token)]
    if trace_numbers:
        _check_traceable(tree)
    builder = _Builder(vocabulary, trace_numbers)
    quantity = _build(builder, sides[0])
    if isinstance(quantity, Written):
        quantity = vocabulary.resolve(quantity)
    if isinstance(quantity, ShownBase) and quantity.prime and isinstance(quantity.args[0], QuantitySymbol) \
            and quantity.args[0].kind is NET:
        # f′(net_U) = …, σ′(net_U) = … on the left: the slope ∂out_U/∂net_U, when that is the unit's activation.
        unit = quantity.args[0].subjects[0]
        if vocabulary.network.layers[vocabulary.units[unit].layer - 1].activation == quantity.activation:
            quantity = QuantitySymbol(SLOPE, unit, unit)
    if not isinstance(quantity, sympy.Symbol):
        raise ClaimError("claim_left_side", 1, Message("hint_left_side", examples=LEFT_SIDE_EXAMPLES))
    parts = []
    for side in sides[1:]:
        expression = builder.value(_build(builder, side))
        _check_size(expression)
        literal = _literal(side)
        written, numbers = None, {}
        if literal is None and not trace_numbers and _shown_as_written(side, formula=bool(expression.free_symbols)):
            # The part as the student put it together (their order, their numbers), for showing how it was read.
            tracer = _WrittenBuilder(vocabulary, trace_numbers=True)
            written = tracer.value(_build(tracer, side))
            numbers = {symbol: value for symbol, (value, _) in tracer.numbers.items()}
        parts.append(Part(expression, literal, None if written is None else _recipe(written), numbers))
    return Claim(text, quantity, tuple(parts), builder.numbers, vocabulary)


_OPERATIONS = {"add": sympy.Add, "mul": sympy.Mul, "pow": sympy.Pow}


def _recipe(expression: sympy.Expr) -> tuple:
    """Return an unevaluated expression as nested tuples (operation, parts…), leaves kept as they are."""
    for name, operation in _OPERATIONS.items():
        if isinstance(expression, operation):
            return (name, *(_recipe(arg) for arg in expression.args))
    if isinstance(expression, sympy.Function) and expression.args:
        return ("call", expression.func, *(_recipe(arg) for arg in expression.args))
    return ("leaf", expression)


def _made(recipe: tuple) -> sympy.Expr:
    """Return the unevaluated expression of a recipe (the inverse of _recipe)."""
    name, *parts = recipe
    if name == "leaf":
        return parts[0]
    if name == "call":
        return parts[0](*(_made(part) for part in parts[1:]), evaluate=False)
    return _OPERATIONS[name](*(_made(part) for part in parts), evaluate=False)


def _shown_as_written(tree, formula: bool = False) -> bool:
    """Return True for a part worth showing as written: a formula, or more than one number; and small enough
    to trace (at most MAX_TRACED_NUMBERS numbers, nested at most MAX_DEPTH deep)."""
    try:
        _check_traceable(tree)
    except ClaimTooLarge:
        return False
    if formula:
        return True
    stack, count = [tree], 0
    while stack and count < 2:
        node = stack.pop()
        if isinstance(node, lark.Tree):
            count += node.data == "number"
            stack.extend(node.children)
    return count > 1


def _unreadable(text: str, error: lark.UnexpectedInput) -> ClaimError:
    position = getattr(error, "pos_in_stream", None)
    position = position + 1 if isinstance(position, int) else None
    if isinstance(error, lark.UnexpectedCharacters):
        character = text[error.pos_in_stream]
        if character == "\\":
            command = re.match(r"\\[A-Za-z]*", text[error.pos_in_stream:]).group(0)
            return ClaimError("claim_latex_command", position,
                              Message("hint_latex_commands", commands=LATEX_COMMANDS), command=command)
        return ClaimError("claim_unexpected_character", position,
                          Message("hint_claim_form_operators", operators=OPERATORS), character=repr(character))
    if isinstance(error, lark.UnexpectedEOF) or getattr(error, "token", None) is not None and error.token.type == "$END":
        return ClaimError("claim_ends_early", len(text) + 1, Message("hint_ends_early"))
    token = getattr(error, "token", None)
    hint = Message("hint_claim_form" if "EQUALS" in getattr(error, "expected", ()) else "hint_brackets")
    if token is None:
        return ClaimError("claim_unexpected_input", position, hint)
    return ClaimError("claim_unexpected_token", position, hint, token=repr(str(token)))
