"""What the checker says, as data: a catalogue key and the fields that fill it, never a sentence.

A :class:`Message` is looked up by the report renderer in the message
catalogue of the chosen language (``templates/i18n/<lang>.yaml``), which
fills in its fields. Fields are data: names and claim text someone typed,
numbers, limits, lists of claim-language names; the renderers escape them as
they escape a claim. A Message is also a string, its English text (the
built-in ``en`` catalogue), for exceptions, logs and the Python API.

Every key the checker may use is in :data:`KEYS`; a Message with any other
key is a programming error, so a test can hold the catalogues to this list.
"""
from __future__ import annotations

from functools import lru_cache

# Why a claim cannot be read, or is too large to judge (Verdict.message).
CLAIM_KEYS = (
    "claim_empty", "claim_too_long", "claim_ends_early", "claim_unexpected_character", "claim_unexpected_token",
    "claim_unexpected_input", "claim_latex_command", "claim_left_side", "claim_not_computed", "claim_unknown_name",
    "claim_not_updatable", "claim_not_a_derivative", "claim_partial_needs_bar", "claim_division_by_zero",
    "claim_updated_not_a_name", "claim_one_argument", "claim_arguments", "claim_unknown_derivative",
    "claim_ambiguous_derivative", "claim_softmax_derivative", "claim_number_out_of_range",
    "claim_exponent_too_large", "claim_number_too_large", "claim_too_deep", "claim_exp_too_large",
    "claim_too_many_numbers", "claim_too_deep_to_judge", "claim_too_many_derivatives",
)
# What to write instead (Verdict.hint).
HINT_KEYS = (
    "hint_empty", "hint_ends_early", "hint_claim_form", "hint_claim_form_operators", "hint_brackets",
    "hint_latex_commands", "hint_left_side", "hint_names", "hint_updatable", "hint_derivative_of",
    "hint_derivative_kinds", "hint_ambiguous_derivative", "hint_softmax_derivative", "hint_alias",
)
# Why a part of a claim is wrong although it was read (Verdict.message, with a method).
JUDGEMENT_KEYS = ("judge_number_not_real", "judge_formula_not_real", "judge_not_precise", "judge_internal_error")

KEYS = frozenset(CLAIM_KEYS + HINT_KEYS + JUDGEMENT_KEYS)


class Message(str):
    """A catalogue key and its fields: Message("claim_unknown_name", name="gamma").

    The string itself is the English text (the built-in en catalogue), so a
    Message serves wherever the checker's messages were English strings (JSON,
    logs, ``"exponent" in verdict.message``); reports never show that text but
    look `key` up in their own language and fill in `fields`, kept as sorted
    (name, value) pairs.
    """

    key: str
    fields: tuple[tuple[str, object], ...]

    def __new__(cls, key: str, **fields):
        if key not in KEYS:
            raise ValueError(f"no catalogue key {key!r} for the checker's messages")
        message = super().__new__(cls, _english()(key, **fields))
        message.key, message.fields = key, tuple(sorted(fields.items()))
        return message

    def __getnewargs_ex__(self):
        return (self.key,), dict(self.fields)

    def __repr__(self) -> str:
        return f"Message({self.key!r}{''.join(f', {name}={value!r}' for name, value in self.fields)})"

    def text(self, messages) -> str:
        """Return the message in the language of `messages` (a catalogue: called as messages(key, **fields))."""
        return messages(self.key, **dict(self.fields))


@lru_cache(maxsize=1)
def _english():
    from ..catalogue import Messages, template_root
    return Messages(template_root(), "en")
