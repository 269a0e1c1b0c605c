"""A student's whole derivation (plain text, Markdown or LaTeX) -> its equation lines, in order.

Each equation is one chain `quantity = form = … = value`, kept with the line it
starts on, as the checker's claims are: the chain's text is judged by the
claim grammar (:mod:`derive.check.parse`), never evaluated. What is found:

* plain lines holding an ``=`` or ``≈`` (list bullets and numbering stripped);
* several equations listed on one line (``w_1 = 0.15, w_2 = 0.2``), each on its own;
* mathematics between ``$…$``, ``$$…$$`` or ``\\[…\\]``, on one line or several;
* the rows of ``equation``, ``align``, ``aligned``, ``gather``, ``multline`` and
  ``eqnarray`` (starred or not): rows are split at ``\\\\``, ``&`` is dropped, and
  a row that starts with ``=`` continues the chain of the row before it, as
  ``&= …`` does under ``net_{h1} &= w_1 i_1 + …``.

Everything else is prose, kept so that a report can show the document as it
was. In LaTeX, comments (``%`` to the end of the line) are dropped first.
Work is bounded by the size of the file (MAX_LINES lines, MAX_EQUATIONS equations).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import DeriveError

MAX_LINES = 20_000
MAX_EQUATIONS = 2_000
KINDS = ("txt", "md", "tex")

_ENVIRONMENTS = r"(?:equation|align|aligned|alignat|gather|gathered|multline|eqnarray|split)\*?"
_BEGIN = re.compile(r"\\begin\{(" + _ENVIRONMENTS + r")\}(?:\{\d+\})?")
_END = re.compile(r"\\end\{(" + _ENVIRONMENTS + r")\}")
_DISPLAY = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$", re.DOTALL)
# List marks (-, 1., 1.1, (a)), and arrows that open a line
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)]|\d{1,2}(?:\.\d{1,2})+(?=\s+[A-Za-zδΔ∂\\])|\(\w{1,3}\)|=>|⇒|->|→|∴)\s+")
_SIGN = re.compile(r"=|≈|\\approx(?![A-Za-z])")
# A case split of two branches, the second `otherwise`, as SymPy's LaTeX writes a Piecewise (a ReLU's f′): read
# as the claim language's (A if C; B otherwise), so the \\ inside it does not end the row.
_CASES = re.compile(r"\\begin\{cases\}\s*(?P<then>[^&\\]+?)\s*&\s*(?:\\text\{\s*(?:for|if)\s*\}(?:\\[:,;!]|\s)*)?"
                    r"(?P<condition>[^&]+?)\s*\\\\\s*(?P<otherwise>[^&\\]+?)\s*&\s*\\text\{\s*otherwise\s*\}\s*"
                    r"\\end\{cases\}")
_TABLE_RULE = re.compile(r"\|?(?:\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*")  # |---|:---:|
_EMPHASIS = re.compile(r"\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*|__(?=\S)([^_\n]+?)(?<=\S)__")  # Markdown's bold
_CONTINUING = re.compile(f"(?:{_SIGN.pattern})(?!>)")  # a line that goes on with a chain (not =>)
_NOISE = re.compile(r"\\(?:nonumber|notag|label\{[^{}]*\}|tag\*?\{[^{}]*\}|quad|qquad)|\\[,;:!]")
_QUAD = re.compile(r"\\q?quad(?![A-Za-z])")
# A remark in words at the end of a row (`= 0.2984 \quad \text{(rounded)}`): text with a space or a bracket in it.
_TRAILING_TEXT = re.compile(r"\\(?:text|textrm|mbox)\s*\{[^{}]*[\s()\[\]:,.][^{}]*\}\s*$")


@dataclass(frozen=True)
class Line:
    """One piece of the document: an equation (a chain to judge) or prose, with the line it starts on.

    `text` is the chain as the checker reads it (the rows of an align joined into one chain, without
    ``&`` and labels); `source` is the text as it stands in the file."""

    number: int
    kind: str  # "equation" or "prose"
    text: str
    source: str
    last: int = 0  # the line it ends on (an align's chain spans its rows)
    end: int = 0   # the line its block ends on (the environment's or display's end): a mark may follow it

    def __post_init__(self):
        if self.last < self.number:
            object.__setattr__(self, "last", self.number)
        if self.end < self.last:
            object.__setattr__(self, "end", self.last)


class DocumentTooLarge(DeriveError):
    """More lines or equations than a derivation is allowed (MAX_LINES, MAX_EQUATIONS)."""


# Full-width forms of the operators, digits and letters (＋, ＝, ０…９, ｗ) are the ASCII ones in an equation; a
# full-width bracket pair is one when it holds no Chinese (（1＋e^(−x)）, not （四舍五入）).
_FULL_WIDTH = str.maketrans({chr(code): chr(code - 0xFEE0) for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                                                        *range(0xFF41, 0xFF5B)]}
                            | {"＋": "+", "－": "-", "＊": "*", "／": "/", "＝": "=", "＾": "^", "＜": "<", "＞": ">"})
_FULL_WIDTH_BRACKETS = re.compile(r"（([^（）\u2e80-\u9fff]*)）")


_TOTAL = re.compile(r"E\s*(?:_\s*\{\s*总\s*\}|_\s*总|总)")  # E总, E_{总}: E_total, as Chinese pages write it


def _half_width(line: str) -> str:
    """Return a line with the full-width forms of mathematics written in ASCII (see _FULL_WIDTH), and E总 as
    E_total."""
    if "总" in line:
        line = _TOTAL.sub("E_total", line)
    if not any("\uff00" <= character <= "\uffef" for character in line):
        return line
    return _FULL_WIDTH_BRACKETS.sub(r"(\1)", line.translate(_FULL_WIDTH))


def kind_of(name: str) -> str:
    """Return the kind of document a file name says (txt, md or tex): .tex/.latex, .md/.markdown, else txt."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {"tex": "tex", "latex": "tex", "md": "md", "markdown": "md"}.get(suffix, "txt")


def read_lines(text: str, kind: str = "txt", source: str | None = None) -> list[Line]:
    """Return the document's lines in order: each equation found, and the prose around them. `source`
    names the document in an error."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    lines = [_half_width(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    if len(lines) > MAX_LINES:
        raise DocumentTooLarge("error_document_lines", source, limit=MAX_LINES)
    if kind == "tex":
        lines = _tex_body([_uncomment(line) for line in lines])
    found: list[Line] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        begin = _BEGIN.search(line) if kind != "txt" else None
        if begin is not None:
            before = line[:begin.start()]
            if before.strip():
                found.extend(_math_in(before, index + 1) if "$" in before or "\\[" in before
                             else _plain(before, index + 1))
            end_index, body = _environment(lines, index, begin)
            found.extend(_ended(_rows(body, index + 1), end_index + 1))
            index = end_index + 1
            continue
        if kind != "txt" and _opens_display(line):
            end_index = _display_end(lines, index)
            block = "\n".join(lines[index:end_index + 1])
            found.extend(_ended(_math_in(block, index + 1), end_index + 1))
            index = end_index + 1
            continue
        line = _BULLET.sub("", line)
        if kind == "md":
            line = _EMPHASIS.sub(lambda match: match.group(1) or match.group(2), line)  # **Hidden layer**: prose
            if line.lstrip().startswith("|"):  # a table's row: each cell an item of a list
                line = "" if _TABLE_RULE.fullmatch(line.strip()) else line.replace("|", " ; ")
        if kind != "txt" and ("$" in line or "\\[" in line):
            found.extend(_math_in(line, index + 1))
        else:
            _continued(found, _plain(line, index + 1))
        index += 1
    if sum(line.kind == "equation" for line in found) > MAX_EQUATIONS:
        raise DocumentTooLarge("error_document_equations", source, limit=MAX_EQUATIONS)
    return found


def _ended(lines: list[Line], end: int) -> list[Line]:
    """Return `lines` as parts of a block that ends on line `end`."""
    return [Line(line.number, line.kind, line.text, line.source, line.last, max(end, line.last)) for line in lines]


_DERIVESTEP = "\\derivestep{"  # derive's own LaTeX: each step an aligned block in this macro


def _tex_body(lines: list[str]) -> list[str]:
    """Return a LaTeX document's lines with what holds no mathematics to mark blanked out (the numbering
    kept): the preamble before \\begin{document} and what follows \\end{document}, and the bodies of
    tikzpicture environments (coordinates, `>=Stealth`); derive's own \\derivestep{…} blocks are read as the
    aligned blocks they typeset."""
    text = "\n".join(lines)
    begin, end = text.find("\\begin{document}"), text.find("\\end{document}")
    if begin >= 0:
        text = re.sub(r"[^\n]", " ", text[:begin + len("\\begin{document}")]) + text[begin + len("\\begin{document}"):]
        end = text.find("\\end{document}")
    if end >= 0:
        text = text[:end] + re.sub(r"[^\n]", " ", text[end:])
    text = re.sub(r"\\begin\{tikzpicture\}.*?\\end\{tikzpicture\}", lambda m: re.sub(r"[^\n]", " ", m.group(0)),
                  text, flags=re.S)
    start = text.find(_DERIVESTEP)
    while start >= 0:
        depth, position = 1, start + len(_DERIVESTEP)
        while position < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[position], 0) if text[position - 1] != "\\" else 0
            position += 1
        if depth:
            break
        inner = text[start + len(_DERIVESTEP):position - 1]
        text = text[:start] + "\\begin{aligned}" + inner + "\\end{aligned}" + text[position:]
        start = text.find(_DERIVESTEP, start + 1)
    return text.split("\n")


def _uncomment(line: str) -> str:
    """Return a LaTeX line without its comment (an unescaped % and what follows)."""
    match = re.search(r"(?<!\\)%", line)
    return line[:match.start()] if match else line


def _environment(lines: list[str], index: int, begin: re.Match) -> tuple[int, list[tuple[int, str]]]:
    """Return (the line the environment ends on, [(line number, text)] of its body)."""
    body: list[tuple[int, str]] = [(index + 1, lines[index][begin.end():])]
    depth, current = 1, index
    while True:
        text = body[-1][1]
        for match in re.finditer(_BEGIN.pattern + "|" + _END.pattern, text):
            depth += 1 if match.group(0).startswith("\\begin") else -1
            if depth == 0:
                body[-1] = (body[-1][0], text[:match.start()])
                return current, body
        current += 1
        if current >= len(lines):
            return current - 1, body
        body.append((current + 1, lines[current]))


def _rows(body: list[tuple[int, str]], first: int) -> list[Line]:
    """Return the equations of an environment's body: rows split at \\\\, a row starting with = continuing
    the chain of the one before."""
    rows: list[tuple[int, str]] = []
    for number, text in body:
        text = _CASES.sub(r"(\g<then> if \g<condition>; \g<otherwise> otherwise)", text)
        text = re.sub(r"\\(?:begin|end)\{" + _ENVIRONMENTS + r"\}(?:\{\d+\})?", " ", text)
        pieces = re.split(r"\\\\(?:\[[^\]]*\])?", text)
        if rows and not rows[-1][1].strip():
            rows[-1] = (number, pieces[0])  # the row starts on this line
        elif rows and not rows[-1][1].endswith("\\\\"):
            rows[-1] = (rows[-1][0], rows[-1][1] + " " + pieces[0])
        else:
            rows.append((number, pieces[0]))
        for piece in pieces[1:]:
            rows[-1] = (rows[-1][0], rows[-1][1] + "\\\\")
            rows.append((number, piece))
    found: list[Line] = []
    for number, row in rows:
        source = row.removesuffix("\\\\").strip()
        text = " ".join(_NOISE.sub(" ", _between_equations(_TRAILING_TEXT.sub("", source))).replace("&", " ").split())
        if not text:
            continue
        if _SIGN.match(text) and found and found[-1].kind == "equation":
            previous = found[-1]  # "&= …": the chain of the row before goes on
            found[-1] = Line(previous.number, "equation", f"{previous.text} {text}", f"{previous.source}\n{source}",
                             number)
            continue
        if not _SIGN.search(text):
            found.append(Line(number, "prose", text, source, number))
            continue
        found.extend(Line(number, "equation", piece, source if len(pieces) == 1 else piece, number)
                     for pieces in [_listed(text)] for piece in pieces)
    return found


def _between_equations(text: str) -> str:
    """Return a row with each \\quad or \\qquad that stands between two equations (`a = 1 \\qquad b = 2`) made a
    list separator; one that only spaces out an equation stays a space."""
    pieces = _QUAD.split(text)
    if len(pieces) > 1 and all(_SIGN.search(piece) for piece in pieces):
        return " ; ".join(pieces)
    return text


_UPDATED_PROSE = re.compile(r"(?:更新后的?|更新的|新的)\s*[\u2e80-\u9fff]*\s*$")  # 更新后的总误差E_total: after the update
_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff0c\uff0e-\uff1b\uff1f-\uffef\u3000-\u303f]")


def _without_prose(text: str) -> str:
    """Return an equation line without the Chinese (or other wide-character) prose written around it on
    the same line: `所以 net_h1 = 0.3775，…` is `net_h1 = 0.3775`. The prose before the first = is what
    ends with the last wide character there; the prose after the last = begins with the first one."""
    signs = list(_SIGN.finditer(text))
    if not signs:
        return text
    first, last = signs[0].start(), signs[-1].end()
    before = [match.end() for match in _WIDE.finditer(text, 0, first)]
    after = _WIDE.search(text, last)
    kept = text[before[-1] if before else 0:after.start() if after else len(text)].strip() or text
    if before and _UPDATED_PROSE.search(text[:before[-1]]):
        return f"new {kept}"  # 更新后的 w5 = …: the value after the update, as `new w5 = …` says
    return kept


_SEPARATORS = ",;，；、"
_OPENING, _CLOSING = "([{", ")]}"
# `out_h1 = 0.5933 and out_h2 = 0.5969`, `E = E_o1 + E_o2 so dE/dout_h1 = …`: a list too, when each piece is an
# equation
_AND = re.compile(r"\s+(?:and|so|then|thus|hence|therefore)\s+", re.IGNORECASE)


def _listed(text: str) -> list[str]:
    """Return the equations of a list written on one line (`w_1 = 0.15, w_2 = 0.2`): the text split at its
    commas and semicolons outside brackets and at the words `and`, `so`, `then`, …, when every piece holds an
    = or ≈, or, for names each given one number with only spaces between (`w1 = 0.15 w5 = 0.40`), at those
    spaces; else the text whole (a comma inside w_{1,1}, max(a, b) or a chain followed by words is not a
    list)."""
    pieces, depth, start = [], 0, 0
    for position, character in enumerate(text):
        if character in _OPENING:
            depth += 1
        elif character in _CLOSING:
            depth = max(depth - 1, 0)
        elif character in _SEPARATORS and depth == 0:
            pieces.append(text[start:position])
            start = position + 1
    pieces.append(text[start:])
    pieces = [word_piece.strip() for piece in pieces for word_piece in _AND.split(piece)]
    # A piece of prose between the equations (`b1 = 0.1；输出层为归一化，c1 = 0`) is not one of them.
    pieces = [piece for piece in pieces if _SIGN.search(piece) or not _is_prose(piece)]
    if len(pieces) > 1 and all(_SIGN.search(piece) for piece in pieces if piece) and any(pieces):
        return [piece for piece in pieces if piece]
    if _SPACED_LIST.fullmatch(text):  # w1 = 0.15 w5 = 0.40: a table of givens, flattened
        return [match.group(0).strip() for match in _ASSIGNMENT.finditer(text)]
    return [text]


# name = number, written after one another with spaces only: each a name (letters, digits, _, {…}) and one number
_NAME = r"[A-Za-z][A-Za-z0-9]*(?:_\{?[A-Za-z0-9,]+\}?)?"
_NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_ASSIGNMENT = re.compile(rf"{_NAME}\s*=\s*{_NUMBER}")
_SPACED_LIST = re.compile(rf"\s*{_NAME}\s*=\s*{_NUMBER}(?:\s+{_NAME}\s*=\s*{_NUMBER})+\s*")


def _is_prose(piece: str) -> bool:
    """Return True for a piece of a line that is words, not mathematics: Chinese, or two words or more."""
    return bool(_WIDE.search(piece)) or len(re.findall(r"[A-Za-z]{2,}", piece)) >= 2 and \
        not re.search(r"[-+*/^()\\_]", piece)


def _opens_display(line: str) -> bool:
    """Return True when the line opens a $$ or \\[ display that it does not close."""
    return (line.count("$$") % 2 == 1) or (line.count("\\[") > line.count("\\]"))


def _display_end(lines: list[str], index: int) -> int:
    """Return the line that closes the display opened on line `index` (the last line if none does)."""
    closing = "$$" if lines[index].count("$$") % 2 == 1 else "\\]"
    for end in range(index + 1, len(lines)):
        if closing in lines[end]:
            return end
    return len(lines) - 1


def _math_in(block: str, number: int) -> list[Line]:
    """Return the equations between $…$, $$…$$ or \\[…\\] in `block` (starting on line `number`), and the
    prose around them when it is not only white space."""
    found: list[Line] = []
    position = 0
    for match in _DISPLAY.finditer(block):
        math = next(group for group in match.groups() if group is not None)
        line = number + block.count("\n", 0, match.start())
        prose = block[position:match.start()].strip()
        if re.search(r"\w", prose):
            found.append(Line(line, "prose", prose, prose))
        position = match.end()
        found.extend(_rows([(line, math.replace("\n", " "))], line) if _SIGN.search(math)
                     else [Line(line, "prose", math.strip(), match.group(0))])
    rest = block[position:].strip()
    if re.search(r"\w", rest):
        found.append(Line(number + block.count("\n", 0, position), "prose", rest, rest))
    return found


_BRACKETED = re.compile(r"^([^=≈()]*[A-Za-z\u4e00-\u9fff]{2,}[^=≈()]*)\((.*)\)\s*[.。:：]?$")


def _in_brackets(text: str) -> str:
    """Return the equations a line of prose gives in brackets (`Hidden layer (we have δ_o1 = 0.1385, δ_o2 =
    −0.0381)`), else the line."""
    match = _BRACKETED.match(text)
    if match is None or not _SIGN.search(match.group(2)):
        return text
    depth = 0
    for character in match.group(2):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth < 0:
            return text  # the bracket closes before the end: not one bracket around the equations
    return match.group(2) if depth == 0 else text


def _continued(found: list[Line], lines: list[Line]) -> None:
    """Add a plain line's equations to `found`; a line that starts with = or ≈ right under an equation goes
    on with that equation's chain (`net_o1 = w5·out_h1 + …` then `       = 0.4·0.5933 + …`), as an align's
    `&=` rows do and as derive's own text documents write chains."""
    if len(lines) == 1 and lines[0].kind == "equation" and _CONTINUING.match(lines[0].text) and found \
            and found[-1].kind == "equation" and found[-1].last == lines[0].number - 1:
        previous, line = found[-1], lines[0]
        found[-1] = Line(previous.number, "equation", f"{previous.text} {line.text}",
                         f"{previous.source}\n{line.source}", line.number)
        return
    found.extend(lines)


def _plain(line: str, number: int) -> list[Line]:
    """Return a plain line as an equation when it holds an = or ≈ (list bullets stripped), else as prose."""
    text = _BULLET.sub("", line).strip()
    if not text:
        return []
    if not _SIGN.search(text):
        return [Line(number, "prose", text, line.strip())]
    text = _without_prose(_between_equations(_in_brackets(text)))
    pieces = [_without_prose(piece) for piece in _listed(text)]
    if len(pieces) > 1 and pieces[0].startswith("new "):  # 更新后 w6 = …，w8 = …: after the update, each of them
        pieces = [piece if piece.startswith("new ") else f"new {piece}" for piece in pieces]
    return [Line(number, "equation", piece, line.strip() if len(pieces) == 1 else piece) for piece in pieces]
