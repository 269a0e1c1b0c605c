"""Claims files in, a Report out: every student's verdicts and a summary of each."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import yaml

from ..derivation import Derivation
from ..errors import DeriveError
from .judge import Judge, Verdict

MAX_FILE_BYTES = 5_000_000
VERDICTS = ("correct", "incorrect", "undecided", "unreadable")


class ClaimsFileError(DeriveError):
    """A claims file that cannot be used: unreadable, or not a list of claims."""


def claims_from_data(data, source: str = "claims") -> dict[str | None, list[str]]:
    """Return {student id (None for one anonymous student): claims} from parsed YAML/JSON data.

    Accepted: a list of claims; {"claims": [...]}; {"students": {id: [...]}}; or {id: [...]}.
    """
    if isinstance(data, Mapping) and set(data) == {"claims"}:
        data = data["claims"]
    if isinstance(data, Mapping) and set(data) == {"students"}:
        data = data["students"]
    if isinstance(data, list):
        return {None: _claim_list(data, source)}
    if isinstance(data, Mapping) and data:
        return {str(student): _claim_list(claims, f"{source}: student {student}") for student, claims in data.items()}
    raise ClaimsFileError(f"{source}: expected a list of claims, or claims grouped by student id")


def _claim_list(claims, where: str) -> list[str]:
    if not isinstance(claims, list) or not claims:
        raise ClaimsFileError(f"{where}: expected a non-empty list of claims")
    for position, claim in enumerate(claims, start=1):
        if not isinstance(claim, str):
            raise ClaimsFileError(f"{where}: claim {position} is not text (quote it: \"out_h1 = 0.59\")")
    return list(claims)


def load_claims(path: str | Path) -> dict[str | None, list[str]]:
    """Return the claims of a YAML or JSON claims file, by student (see :func:`claims_from_data`)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ClaimsFileError(f"{path}: larger than {MAX_FILE_BYTES // 1_000_000} MB")
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ClaimsFileError(f"{path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ClaimsFileError(f"{path}: not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise ClaimsFileError(f"{path}{where}: not valid YAML ({getattr(error, 'problem', error)})") from None
    return claims_from_data(data, str(path))


@dataclass(frozen=True)
class Report:
    """The verdicts on every claim, in order, and whether claims were grouped by student."""

    derivation: Derivation
    verdicts: tuple[Verdict, ...]
    grouped: bool

    @property
    def passed(self) -> bool:
        """Return True when every claim is correct."""
        return all(v.verdict == "correct" for v in self.verdicts)

    def students(self) -> list[tuple[str | None, list[Verdict]]]:
        """Return (student id, verdicts) in the order of the claims."""
        groups: dict = {}
        for verdict in self.verdicts:
            groups.setdefault(verdict.student, []).append(verdict)
        return list(groups.items())

    @staticmethod
    def summary(verdicts: Sequence[Verdict]) -> dict[str, int]:
        """Return the count of each verdict, of 'consistent' (carried-forward) ones, and the total."""
        counts = Counter(v.verdict for v in verdicts)
        result = {name: counts.get(name, 0) for name in VERDICTS}
        result["consistent"] = sum(1 for v in verdicts if v.consistent)
        result["total"] = len(verdicts)
        return result


def mark(derivation: Derivation, claims: Mapping[str | None, Sequence[str]], carry_forward: bool = False,
         rel_tol: float | None = None) -> Report:
    """Return the Report on every student's claims about `derivation` (work shared between students)."""
    judge = Judge(derivation, rel_tol)
    verdicts = []
    for student, texts in claims.items():
        verdicts.extend(judge.judge_all(texts, carry_forward, student))
    return Report(derivation, tuple(verdicts), grouped=any(student is not None for student in claims))
