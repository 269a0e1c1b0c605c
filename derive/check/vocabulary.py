"""The names a claim may use for one network, and the quantity symbols they stand for.

A name reaches here as the parser saw it: a base ("net", "delta", "w5", "E")
and its subscripts ("h1"; "total"; "h1", "i1" for w_{h1,i1}). Each resolves to a
symbol of :mod:`derive.network`, so a claim is written in the same symbols as
the derivation it is judged against.
"""
from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass

import sympy

from ..formula import CONSTANTS
from ..errors import SpecError
from ..network import Network
from ..quantities import (DELTA, ERROR, GRADIENT, INPUT, LOSS, LOSS_TERM, NET, OUT, PARAM, PARTIAL, SLOPE, TARGET,
                          TOTAL_WORDS, TRAINED, UNIT_WORDS, UPDATED_WORDS, QuantitySymbol)
from .messages import Message


MAX_TRAINED_STEPS = 100_000  # updates a claim about training (E_after_N) may name


class ClaimError(Exception):
    """A claim that cannot be read: what is wrong (a Message: catalogue key and fields), the 1-based
    position in the claim, and a hint (a Message, or None).

    Raised as ClaimError(key, position, hint, **fields); str(error) is the English text.
    """

    def __init__(self, key: str, position: int | None = None, hint: Message | None = None, **fields):
        super().__init__(key)
        self.message, self.position, self.hint = Message(key, **fields), position, hint

    def __str__(self) -> str:
        return str(self.message)


MAX_READINGS = 16  # readings of one line tried when a page writes one name for several quantities


def _in_graph(symbol, kinds) -> bool:
    return isinstance(symbol, QuantitySymbol) and symbol.kind in kinds


@dataclass(frozen=True)
class Written:
    """A name as written: base, subscripts, where it starts, and whether it was marked as updated."""

    base: str
    subscripts: tuple[str, ...]
    position: int
    updated: bool = False
    primes: int = 0   # a_1'' has two, wherever they were written (w'_{11} is w_11')
    tag: str = ""     # a layer's number as a superscript: "^(2)" for a^{(2)}_1 or a^{[2]}_1

    @property
    def text(self) -> str:
        return "_".join((self.base,) + self.subscripts) + "'" * self.primes + self.tag

    @property
    def marked(self) -> bool:
        """True for a name with primes or a superscript: a page's own name, known only by an alias."""
        return bool(self.primes or self.tag)


class Vocabulary:
    """Resolves written names to the symbols of one network."""

    def __init__(self, network: Network):
        self.network = network
        self.parameters = {p.name: p for p in network.parameters}
        self.inputs = dict(network.inputs)
        self.units = {unit.name: unit for unit in network.units}
        self.outputs = {unit.name for unit in network.output_layer.units}
        self.input_numbers = {str(n): name for n, (name, _) in enumerate(network.inputs, start=1)}
        self.unit_numbers = {str(unit.number): unit.name for unit in network.units}
        # w_{41} and w_{4,1} in the index notation of the documents, for parameters used in one place only.
        self.own: dict[str, sympy.Expr] = {}  # a student's own names (see with_names)
        self.index_parameters = {}
        for name, (base, indices) in network.single_places().items():
            self.index_parameters[(base, "".join(indices))] = name
            self.index_parameters[(base, ",".join(indices))] = name
        self.aliases: dict[str, sympy.Expr] = {}  # a page's own names (the spec's `aliases`), by Written.text
        self.alternatives: dict[str, tuple[sympy.Expr, ...]] = {}  # an alias's further meanings
        self._readings: dict = {}
        if network.spec.aliases:
            self._read_aliases(network.spec.aliases)

    def _read_aliases(self, aliases) -> None:
        """Read the spec's aliases as written text -> symbol(s): each written side must read as one name
        that means nothing else to the network, and each meaning as a quantity (a SpecError says which not)."""
        from .parse import parse_claim, written_name  # the parser reads names through a vocabulary

        for alias in aliases:
            written = written_name(alias.written)
            if written is None:
                raise SpecError("error_alias_not_a_name", alias.where, name=alias.written)
            meanings = []
            for text in (alias.meaning, *alias.also):
                try:
                    meanings.append(parse_claim(f"{text} = 0", self).quantity)
                except ClaimError:
                    raise SpecError("error_alias_meaning", alias.where, name=alias.written, meaning=text) from None
            if written.text in self.aliases:
                raise SpecError("error_alias_twice", alias.where, name=alias.written)
            if not written.marked and not written.updated:
                own = self._lookup(written.base, written.subscripts)
                if own is not None and own not in meanings:
                    raise SpecError("error_alias_taken", alias.where, name=alias.written, meaning=alias.meaning)
            self.aliases[written.text] = meanings[0]
            if len(meanings) > 1:
                self.alternatives[written.text] = tuple(dict.fromkeys(meanings))

    def readings(self, text: str) -> list["Vocabulary"]:
        """Return the other ways to read `text` when it uses a name the spec gives several meanings
        (`H1: [net_h1, out_h1]`): this vocabulary with each other choice of meanings (at most MAX_READINGS,
        each made once)."""
        names = [name for name in self.alternatives if re.match(r"[A-Za-z]*", name).group(0) in text]
        if not names:
            return []
        choices = itertools.islice(itertools.product(*(self.alternatives[name] for name in names)), MAX_READINGS + 1)
        readings = []
        for choice in choices:
            chosen = dict(zip(names, choice))
            if all(self.aliases[name] == meaning for name, meaning in chosen.items()):
                continue  # this vocabulary's own reading
            key = tuple(sorted(chosen.items(), key=str))
            if key not in self._readings:
                reading = copy.copy(self)
                reading.aliases, reading._readings = {**self.aliases, **chosen}, {}
                self._readings[key] = reading
            readings.append(self._readings[key])
        return readings

    # ------------------------------------------------------------------
    def resolve(self, written: Written) -> sympy.Expr:
        """Return the symbol for a written name (or the constant e or pi), or raise ClaimError with a hint.

        The network's own names come first: in a network with an input named e, `e` is that input.
        """
        if written.text in self.aliases:
            symbol = self.aliases[written.text]
            return self._updated(symbol, written) if written.updated else symbol
        if written.marked:  # primes or a layer's superscript: known only by an alias
            raise ClaimError("claim_unknown_name", written.position, Message("hint_alias", name=written.text),
                             name=written.text)
        subscripts, updated = list(written.subscripts), written.updated
        if subscripts and subscripts[-1].lower() in UPDATED_WORDS:
            subscripts, updated = subscripts[:-1], True
        symbol = self._lookup(written.base, tuple(subscripts))
        if symbol is None and not updated:  # w5new, w_{5new}: the word run into the name
            symbol = self._run_together_update(written.base, tuple(subscripts))
            updated = symbol is not None
        if symbol is None and written.text in self.own and not written.updated:
            return self.own[written.text]
        if symbol is None and written.text in CONSTANTS and not written.updated:
            return CONSTANTS[written.text]
        if symbol is None:
            raise ClaimError("claim_unknown_name", written.position, self.hint(), name=written.text)
        return self._updated(symbol, written) if updated else symbol

    def with_names(self, own: dict[str, sympy.Expr]) -> "Vocabulary":
        """Return this vocabulary with a student's own names added (`a` for what their line `a = …` defined);
        the network's names come first."""
        named = copy.copy(self)
        named.own, named._readings = {**self.own, **own}, {}
        return named

    def names_x(self) -> bool:
        """Return True when `x` names something here (else a lone x between factors is the times sign)."""
        return "x" in self.own or "x" in self.aliases or self._lookup("x", ()) is not None

    def is_free(self, name: str) -> bool:
        """Return True when `name` means nothing to this network yet (a student may define it)."""
        return (name.isidentifier() and name not in self.own and name not in CONSTANTS and name not in self.aliases
                and self._lookup(name, ()) is None and self._run_together_update(name, ()) is None
                and "_" not in name.strip("_"))

    def _run_together_update(self, base: str, subscripts: tuple[str, ...]) -> sympy.Symbol | None:
        """Return the quantity of `w5new` (or `w_{5new}`): an updatable quantity's name with an updated word
        run into its end, or None."""
        last = subscripts[-1] if subscripts else base
        for word in UPDATED_WORDS:
            if len(last) > len(word) and last.lower().endswith(word):
                stem = last[:-len(word)]
                symbol = self._lookup(*((base, subscripts[:-1] + (stem,)) if subscripts else (stem, ())))
                if isinstance(symbol, QuantitySymbol) and symbol.kind.after is not None:
                    return symbol
        return None

    def _lookup(self, base: str, subscripts: tuple[str, ...]) -> sympy.Symbol | None:
        """Resolve a name: an input or parameter written exactly, a unit's quantity (net_h1), then a
        parameter with its subscript run together (w_5 for w5). The spec reader refuses names that two
        of these would read differently."""
        exact = self._named("_".join((base,) + subscripts))
        if exact is not None:
            return exact
        if len(subscripts) >= 2 and subscripts[-2] == "after" and subscripts[-1].isdigit() \
                and len(subscripts[-1]) <= len(str(MAX_TRAINED_STEPS)):
            # E_after_100, out_o1_after_100, w5_after_100: the value after that many updates of training.
            inner = self._lookup(base, subscripts[:-2])
            if isinstance(inner, QuantitySymbol) and inner.kind in (LOSS, OUT, PARAM) \
                    and int(subscripts[-1]) <= MAX_TRAINED_STEPS:
                return QuantitySymbol(TRAINED, inner, str(int(subscripts[-1])))
        if base == "E" and (not subscripts or subscripts in [(word,) for word in TOTAL_WORDS]):
            return self.network.loss
        if base in UNIT_WORDS and subscripts:
            kind, unit = UNIT_WORDS[base], self._unit("_".join(subscripts)) or self._unit("".join(subscripts))
            if unit is not None and (kind not in (TARGET, LOSS_TERM) or unit in self.outputs):
                return QuantitySymbol(kind, unit)
        joined = self._named(base + "".join(subscripts))
        if joined is not None:
            return joined
        if base == "eta" and not subscripts:
            return self.network.learning_rate
        if base == "x" and len(subscripts) == 1 and subscripts[0] in self.input_numbers:
            return self.inputs[self.input_numbers[subscripts[0]]]
        if base in ("w", "b") and subscripts:
            key = (base, ",".join(subscripts)) if len(subscripts) > 1 else (base, subscripts[0])
            if key in self.index_parameters:
                return self.parameters[self.index_parameters[key]].symbol
        if not subscripts:
            return self._run_together(base)
        return None

    def is_unit_word(self, word: str, unit: str) -> bool:
        """Return True when `word` alone names nothing here and `word` with `unit` as its subscript names a
        unit's quantity (δ then h1, as δh1 is written)."""
        return word in UNIT_WORDS and self._lookup(word, ()) is None and word not in self.own \
            and word not in self.aliases and self._unit(unit) is not None and self._lookup(word, (unit,)) is not None

    def _run_together(self, base: str) -> sympy.Symbol | None:
        """Return the quantity of a unit's word run into its unit (outh1, neto1, deltah1, Eo1) or of Etotal, or
        None; the longest word first, and only where what follows is the network's unit."""
        for word in sorted(UNIT_WORDS, key=lambda word: (-len(word), word)):
            rest = base[len(word):]
            if base.startswith(word) and rest and (self._unit(rest) is not None
                                                   or word == "E" and rest in TOTAL_WORDS):
                return self._lookup(word, (rest,))
        return None

    def _named(self, name: str) -> sympy.Symbol | None:
        if name in self.parameters:
            return self.parameters[name].symbol
        return self.inputs.get(name)

    def _unit(self, text: str) -> str | None:
        if text in self.units:
            return text
        return self.unit_numbers.get(text)

    def _updated(self, symbol: sympy.Symbol, written: Written) -> sympy.Symbol:
        if isinstance(symbol, QuantitySymbol) and symbol.kind.after is not None:
            return symbol.after
        raise ClaimError("claim_not_updatable", written.position, Message("hint_updatable"), name=written.text)

    def derivative(self, top: Written, bottom: Written) -> sympy.Symbol:
        """Return the symbol of ∂top/∂bottom: dE/dP, dE/dout_U, dE/dnet_U (= δ_U), dout_U/dnet_U, or the
        derivative of a net, output or loss (term) with respect to a net, output, input or parameter
        through the graph (∂net_o1/∂w5, ∂E_o1/∂out_h1)."""
        numerator, denominator = self.resolve(top), self.resolve(bottom)
        if not (isinstance(numerator, sympy.Symbol) and isinstance(denominator, sympy.Symbol)):
            raise ClaimError("claim_not_a_derivative", top.position, Message("hint_derivative_of"),
                             top=top.text, bottom=bottom.text)
        kind, subjects = getattr(denominator, "kind", None), getattr(denominator, "subjects", ())
        of_loss = {PARAM: GRADIENT, OUT: ERROR, NET: DELTA}
        if numerator == self.network.loss and kind in of_loss:
            return QuantitySymbol(of_loss[kind], *subjects)
        if kind is NET and numerator == QuantitySymbol(OUT, *subjects) \
                and not self.network.layers[self.units[subjects[0]].layer - 1].activation.layer_wise:
            return QuantitySymbol(SLOPE, subjects[0], subjects[0])  # f′(net_U); a softmax unit's is along the graph
        if _in_graph(numerator, (NET, OUT, LOSS_TERM, LOSS)) and _in_graph(denominator, (NET, OUT, INPUT, PARAM)) \
                and numerator != denominator:
            return QuantitySymbol(PARTIAL, numerator, denominator)  # ∂net_o1/∂w5, ∂E_o1/∂out_h1
        raise ClaimError("claim_not_a_derivative", top.position, Message("hint_derivative_kinds"),
                         top=top.text, bottom=bottom.text)

    def hint(self) -> Message:
        """Return the hint for an unknown name: a short list of the names this network knows."""
        units = list(self.units)
        examples = [f"{kind}_{units[0]}" for kind in ("net", "out", "delta")] if units else []
        names = list(self.inputs) + list(self.parameters)[:6] + examples + ["target_U", "E", "eta"]
        return Message("hint_names", names=", ".join(names))
