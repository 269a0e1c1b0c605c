"""Error values. The library raises these; only the CLI turns them into one line and an exit code.

An error is data: a catalogue key (``error_…``, in ``templates/i18n/<lang>.yaml``) and the fields that fill
it, never a sentence. ``str(error)`` is the English text (the built-in ``en`` catalogue);
``error.text(messages)`` is the same in another catalogue, so a translation is one file.
"""
from __future__ import annotations

from collections.abc import Mapping


def one_line(text) -> str:
    """Return a message on one line: runs of white space (line breaks too) become one space, other control
    characters are written as escapes. A library's message may have several lines; ours never do."""
    return " ".join("".join(c if c.isprintable() or c.isspace() else repr(c)[1:-1] for c in str(text)).split())


def _english() -> Mapping[str, str]:
    from .catalogue import read, template_root  # here, not at the top: catalogue.py imports this module
    return read(template_root(), "en")


def _messages(messages) -> Mapping[str, str]:
    """Return the messages of a catalogue: a derive.catalogue.Messages, or a mapping of key to message."""
    return messages.messages if hasattr(messages, "messages") else messages


def _localised(value, messages: Mapping[str, str]):
    """Return a field's value in the language of `messages`: a Phrase (or the checker's Message) is put into
    it; any other value is data and stays what it is."""
    if isinstance(value, Phrase):
        return value.text(messages)
    if hasattr(value, "key") and hasattr(value, "fields") and callable(getattr(value, "text", None)):
        return value.text(lambda key, **fields: _format(messages, key, fields))
    return value


def _format(messages: Mapping[str, str], key: str, fields: Mapping[str, object]) -> str:
    """Return the message `key` of `messages` (the English one when `messages` lacks it) filled in with
    `fields`. A key found in no catalogue is shown as it is (text not yet made a key)."""
    template = messages.get(key)
    if template is None:
        template = _english().get(key) if messages is not _english() else None
    if template is None:
        return key
    return template.format(**{name: _localised(value, messages) for name, value in fields.items()})


class Phrase(str):
    """A part of a message that varies by case (a suggestion, a kind of thing, a place), as a catalogue key
    and fields: passed as a field (or as `where`), it is put into the language the error is shown in.
    The string itself is the English text."""

    key: str
    fields: dict

    def __new__(cls, key: str, **fields):
        phrase = super().__new__(cls, _format(_english(), key, fields))
        phrase.key, phrase.fields = key, fields
        return phrase

    def __getnewargs_ex__(self):
        return (self.key,), dict(self.fields)

    def __repr__(self) -> str:
        return f"Phrase({self.key!r}{''.join(f', {name}={value!r}' for name, value in self.fields.items())})"

    def text(self, messages) -> str:
        """Return the phrase in the language of `messages` (a derive.catalogue.Messages or a dict)."""
        return _format(_messages(messages), self.key, self.fields)


def _rebuild(cls, key, where, fields):
    return cls(key, where, **fields)


class DeriveError(Exception):
    """Bad input, described in one line: DeriveError(key, where, **fields). `key` names the message in the
    catalogues (templates/i18n/<lang>.yaml), `fields` fill it in, `where` says where (file, line, field)
    when known."""

    def __init__(self, key: str, where: str | None = None, **fields):
        super().__init__(key)
        self.key = key
        self.where = where
        self.fields = fields

    @property
    def message(self) -> str:
        """The English text (the built-in en catalogue's message for `key`, filled in with `fields`)."""
        return _format(_english(), self.key, self.fields)

    def text(self, messages) -> str:
        """Return str(self) in the language of `messages` (a derive.catalogue.Messages or a dict)."""
        messages = _messages(messages)
        message = _format(messages, self.key, self.fields)
        where = _localised(self.where, messages)
        return _format(messages, "error_at", {"where": where, "message": message}) if where else message

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def __reduce__(self):
        return _rebuild, (type(self), self.key, self.where, self.fields)


class SpecError(DeriveError):
    """A network file that cannot be read, or that describes no valid network."""


class FormulaError(DeriveError):
    """A formula (activation or loss) outside the safe grammar."""


class RenderError(DeriveError):
    """A document that cannot be produced (missing template, failed tool)."""
