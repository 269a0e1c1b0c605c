"""The computational graph of a derivation's program, and derivatives along it.

A program is a list of definitions `quantity = expression` in derive's own symbols (the forward pass, the
loss, the backward pass, the update). Read as a graph, each quantity is a node whose edges come from the
symbols its expression uses. :func:`derivative` is the derivative of one node with respect to another
through that graph: the sum, over every path from the lower node to the upper one, of the products of the
local partial derivatives along it (the chain rule as seed 001 writes it). The lower node is taken as a
node of its own: what it is computed from is held fixed, so ∂E_o1/∂out_h1 goes through net_o1 and out_o1
but not back through net_h1. Every local partial derivative is SymPy's (:func:`derive.calculus.differentiate`).
"""
from __future__ import annotations

from typing import Mapping

import sympy

from .calculus import differentiate


def downstream(definitions: Mapping[sympy.Symbol, sympy.Expr], node: sympy.Symbol) -> list[sympy.Symbol]:
    """Return the quantities computed from `node`, directly or not, each after everything it uses of them
    (so in an order the chain rule can follow)."""
    users: dict[sympy.Symbol, list[sympy.Symbol]] = {}
    for symbol, expression in definitions.items():
        for used in expression.free_symbols:
            users.setdefault(used, []).append(symbol)
    reached, frontier = set(), [node]
    while frontier:
        for user in users.get(frontier.pop(), ()):
            if user not in reached and user != node:
                reached.add(user)
                frontier.append(user)
    order = list(definitions)  # a program lists each quantity after what it uses
    return [symbol for symbol in order if symbol in reached]


def derivative(definitions: Mapping[sympy.Symbol, sympy.Expr], top: sympy.Symbol,
               bottom: sympy.Symbol) -> sympy.Expr:
    """Return d top / d bottom through the graph of `definitions` (listed in program order), in the
    program's own symbols: 1 when they are the same node, 0 when `top` is not computed from `bottom`."""
    if top == bottom:
        return sympy.Integer(1)
    along: dict[sympy.Symbol, sympy.Expr] = {bottom: sympy.Integer(1)}
    for node in downstream(definitions, bottom):
        expression = definitions[node]
        along[node] = sympy.Add(*[differentiate(expression, used) * along[used]
                                  for used in sorted(expression.free_symbols, key=sympy.default_sort_key)
                                  if used in along and along[used] != 0])
        if node == top:
            return along[node]
    return sympy.Integer(0)
