"""Claims files in, a Report out: every student's verdicts and a summary of each."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import yaml

from ..derivation import Derivation
from ..errors import DeriveError, Phrase
from ..spec import compose, where as _at
from .judge import Judge, Policy, Verdict
from .lines import kind_of, read_lines

MAX_FILE_BYTES = 5_000_000
VERDICTS = ("correct", "incorrect", "undecided", "unreadable")
UNJUDGED = ("skipped", "defined")  # a derivation's lines that name no quantity, or name one of the student's own


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
        return {str(student): _claim_list(claims, _student(source, student)) for student, claims in data.items()}
    raise ClaimsFileError("error_claims_form", source)


def _student(source: str, student) -> str:
    """Return where one student's claims are in `source`."""
    return Phrase("error_where_student", source=source, student=student)


def _claim_list(claims, where: str) -> list[str]:
    if not isinstance(claims, list) or not claims:
        raise ClaimsFileError("error_claims_empty", where)
    for position, claim in enumerate(claims, start=1):
        if not isinstance(claim, str):
            raise ClaimsFileError("error_claim_not_text", where, position=position)
    return list(claims)


def load_claims(path: str | Path) -> dict[str | None, list[str]]:
    """Return the claims of a YAML or JSON claims file, by student (see :func:`claims_from_text`)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ClaimsFileError("error_file_too_large_mb", str(path), limit=MAX_FILE_BYTES // 1_000_000)
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ClaimsFileError("error_os", str(path), reason=error.strerror or error) from None
    except UnicodeDecodeError:
        raise ClaimsFileError("error_not_utf8", str(path)) from None
    return claims_from_text(text, str(path))


def claims_from_text(text: str, source: str = "claims") -> dict[str | None, list[str]]:
    """Return {student id (None for one anonymous student): claims} from a YAML or JSON claims file's text.

    Every student id and every claim is the text exactly as typed: YAML's implicit typing is not used,
    so 00123 and 0123 are two students, and `no`, `12:30` or `1e3` stay what they say. Two students
    with the same id are an error naming both lines. The forms are those of :func:`claims_from_data`.
    """
    root = compose(text, source, ClaimsFileError)
    _untagged(root, source)
    if isinstance(root, yaml.MappingNode) and len(root.value) == 1 and _text(root.value[0][0]) in ("claims", "students"):
        root = root.value[0][1]
        _untagged(root, source)
    if isinstance(root, yaml.SequenceNode):
        return {None: _claim_nodes(root, source)}
    if isinstance(root, yaml.MappingNode) and root.value:
        students: dict[str | None, list[str]] = {}
        lines: dict[str, int] = {}
        for key, value in root.value:
            student = _text(key)
            if student is None:
                raise ClaimsFileError("error_student_id_text", _at(source, key.start_mark.line + 1))
            if student in students:
                raise ClaimsFileError("error_student_id_twice", _at(source, key.start_mark.line + 1), student=student,
                                      line=lines[student])
            lines[student] = key.start_mark.line + 1
            _untagged(value, source)
            students[student] = _claim_nodes(value, _student(source, student))
        return students
    raise ClaimsFileError("error_claims_form", source)


_CONTAINERS = ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")


def _untagged(node, where: str) -> None:
    """Refuse a list or mapping with a hand-written tag (!!python/…): a claims file is plain lists of text."""
    if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)) and node.tag not in _CONTAINERS:
        raise ClaimsFileError("error_yaml_tag", _at(where, node.start_mark.line + 1), tag=node.tag[:40])


def _text(node) -> str | None:
    """Return a scalar node's text exactly as written, or None for a list or mapping."""
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _claim_nodes(node, where: str) -> list[str]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise ClaimsFileError("error_claims_empty", where)
    _untagged(node, where)
    claims = []
    for position, item in enumerate(node.value, start=1):
        text = _text(item)
        if text is None:
            raise ClaimsFileError("error_claim_not_text", where, position=position)
        claims.append(text)
    return claims


@dataclass(frozen=True)
class Report:
    """The verdicts on every claim, in order, and whether claims were grouped by student."""

    derivation: Derivation
    verdicts: tuple[Verdict, ...]
    grouped: bool
    document: bool = False  # the verdicts are the lines of whole derivations (derive check --derivation)
    policy: Policy = Policy()
    # Students marked against a derivation of their own (a handout's variants): student -> (variant, derivation).
    variants: Mapping[str | None, tuple[str, Derivation]] = field(default_factory=dict, compare=False)

    def derivation_of(self, student: str | None) -> Derivation:
        """Return the derivation a student's claims were judged against: their variant's, or the report's."""
        return self.variants[student][1] if student in self.variants else self.derivation

    @property
    def passed(self) -> bool:
        """Return True when every claim (every line judged) is correct."""
        return all(v.verdict == "correct" for v in self.verdicts if v.verdict not in UNJUDGED)

    def students(self) -> list[tuple[str | None, list[Verdict]]]:
        """Return (student id, verdicts) in the order of the claims."""
        groups: dict = {}
        for verdict in self.verdicts:
            groups.setdefault(verdict.student, []).append(verdict)
        return list(groups.items())

    def of(self, student: str | None) -> "Report":
        """Return the report of one student's verdicts."""
        variants = {student: self.variants[student]} if student in self.variants else {}
        return Report(self.derivation_of(student), tuple(v for v in self.verdicts if v.student == student),
                      self.grouped, self.document, self.policy, variants)

    def class_summary(self) -> dict:
        """Return what a class got wrong: {"students": count, "wrong": [(quantity's claim name, students whose
        last line for it is wrong and not consistent)], "mistakes": [(mistake, lines it was named on)]}, each
        list most frequent first (then by name)."""
        wrong, mistakes = Counter(), Counter()
        students = self.students()
        for _, verdicts in students:
            last = {v.quantity: v for v in verdicts if v.quantity is not None and v.verdict not in UNJUDGED}
            wrong.update(q.claim_name() for q, v in last.items() if v.verdict == "incorrect" and not v.consistent)
            for verdict in verdicts:
                diagnosis = verdict.diagnosis or (verdict.first_wrong.diagnosis if verdict.first_wrong else None)
                while diagnosis is not None:  # a pair of mistakes counts as both
                    mistakes[diagnosis.mistake] += 1
                    diagnosis = diagnosis.also
        order = lambda counts: sorted(counts.items(), key=lambda item: (-item[1], item[0]))  # noqa: E731
        return {"students": len(students), "wrong": order(wrong), "mistakes": order(mistakes)}

    def points(self, verdict: Verdict) -> tuple[float, float]:
        """Return (points earned, points possible) of one line of a derivation, by the policy's points per
        kind of link: the formula, the numbers put in, the value (the last number; right, consistent with
        the student's earlier values, or the right step from a wrong side before it). A line that could not
        be read or judged can earn its value's points and earns none; skipped lines and names count nothing."""
        weights = dict(self.policy.points)
        if verdict.verdict in UNJUDGED:
            return 0.0, 0.0
        if not verdict.links:
            return 0.0, weights.get("value", 0.0)
        earned = possible = 0.0
        for kind, links in (("formula", [l for l in verdict.links if l.kind == "formula"]),
                            ("substitution", [l for l in verdict.links if l.kind == "substitution"]),
                            ("value", [l for l in verdict.links[-1:] if l.kind in ("value", "arithmetic")])):
            if links:
                possible += weights.get(kind, 0.0)
                if all(l.verdict in ("correct", "consistent", "follows") if kind == "value" else
                       l.verdict in ("correct", "consistent") for l in links):
                    earned += weights.get(kind, 0.0)
        return earned, possible

    @staticmethod
    def summary(verdicts: Sequence[Verdict]) -> dict[str, int]:
        """Return the count of each verdict, of 'consistent' (carried-forward) ones, and the total judged;
        a derivation's skipped lines and the student's own names are counted apart, not in the total."""
        counts = Counter(v.verdict for v in verdicts)
        result = {name: counts.get(name, 0) for name in VERDICTS}
        result["consistent"] = sum(1 for v in verdicts if v.consistent)
        result["total"] = sum(1 for v in verdicts if v.verdict not in UNJUDGED)
        for name in UNJUDGED:
            if counts.get(name):
                result[name] = counts[name]
        return result


def mark(derivation: Derivation, claims: Mapping[str | None, Sequence[str]], carry_forward: bool = False,
         rel_tol: float | None = None, policy: Policy | None = None) -> Report:
    """Return the Report on every student's claims about `derivation` (work shared between students)."""
    policy = policy or Policy()
    judge = Judge(derivation, rel_tol, policy=policy)
    verdicts = []
    for student, texts in claims.items():
        verdicts.extend(judge.judge_all(texts, carry_forward, student))
    return Report(derivation, tuple(verdicts), grouped=any(student is not None for student in claims), policy=policy)


def mark_derivations(derivation: Derivation, documents: Mapping[str | None, str | Path], rel_tol: float | None = None,
                     kind: str | None = None, policy: Policy | None = None,
                     kinds: Mapping[str | None, str] | None = None, jobs: int = 1, progress=None) -> Report:
    """Return the Report on whole derivations about `derivation`: {student id (None for one): the document's
    text or its path}. A path's kind (txt, md, tex) is its extension's unless `kinds` (per student) or `kind`
    says; text is read so too, else as LaTeX when it holds \\begin{…}, else as Markdown (whose rules read
    plain text too). With `jobs` > 1 the students are marked in that many processes, the report the same
    as in one; `progress(1)` is called as each student is done."""
    policy = policy or Policy()
    judge = Judge(derivation, rel_tol, policy=policy)
    pages = []
    for student, document in documents.items():
        text, source = (read_document(document), document) if isinstance(document, Path) else (document, None)
        how = (kinds or {}).get(student) or kind or document_kind(text, source)
        pages.append((student, read_lines(text, how, str(source) if source is not None else student)))
    if jobs > 1 and len(pages) > 1:
        marked = _in_processes(judge, derivation, rel_tol, policy, pages, jobs, progress)
        verdicts = [judge.restored(verdict) for student_verdicts in marked for verdict in student_verdicts]
    else:
        verdicts = []
        for student, lines in pages:
            verdicts.extend(judge.judge_document(lines, student))
            if progress is not None:
                progress(1)
    return Report(derivation, tuple(verdicts), grouped=any(student is not None for student in documents),
                  document=True, policy=policy)


def mark_variants(variants: Mapping[str, Derivation], documents: Mapping[str, str | Path],
                  assigned: Mapping[str, str], **options) -> Report:
    """Return one Report on a class whose students each worked a variant of a handout: `variants` is
    {variant id: its derivation}, `assigned` {student: variant id}; each student's document is marked
    against their variant's derivation (:func:`mark_derivations`, with `options`), in the students' order."""
    by_variant: dict[str, dict] = {}
    for student, document in documents.items():
        by_variant.setdefault(assigned[student], {})[student] = document
    kinds = options.pop("kinds", None) or {}
    verdicts: dict = {}
    for variant, group in by_variant.items():
        marked = mark_derivations(variants[variant], group, kinds={s: kinds[s] for s in group if s in kinds} or None,
                                  **options)
        for student, student_verdicts in marked.students():
            verdicts[student] = student_verdicts
    first = variants[assigned[next(iter(documents))]]
    return Report(first, tuple(v for student in documents for v in verdicts.get(student, ())), grouped=True,
                  document=True, policy=options.get("policy") or Policy(),
                  variants={student: (assigned[student], variants[assigned[student]]) for student in documents})


_WORKER: dict = {}


def _start_worker(derivation, rel_tol, policy) -> None:
    _WORKER["judge"] = Judge(derivation, rel_tol, policy=policy)


def _mark_page(student, lines) -> list:
    return _WORKER["judge"].judge_document(lines, student)


def _in_processes(judge: Judge, derivation, rel_tol, policy, pages, jobs: int, progress) -> list[list]:
    """Return each page's verdicts, marked in `jobs` worker processes, in order.

    Where processes can fork, the first page is marked here and the workers are forked from this process
    after it: each starts with `judge` and all it learnt from that page (random points, the mistakes and their
    replays, proofs, the verdicts on lines a class shares), not from nothing. Elsewhere each worker makes its
    own Judge. Verdicts do not depend on what a judge has kept, so the report is the same either way."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    results, rest, options = [], list(pages), {}
    if "fork" in multiprocessing.get_all_start_methods():
        student, lines = rest.pop(0)
        results.append(judge.judge_document(lines, student))
        if progress is not None:
            progress(1)
        _WORKER["judge"] = judge  # what the forked workers find
        options["mp_context"] = multiprocessing.get_context("fork")
    else:
        options.update(mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                       initargs=(derivation, rel_tol, policy))
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(rest)), **options) as pool:
            futures = [pool.submit(_mark_page, student, lines) for student, lines in rest]
            for future in futures:  # in order: the report is the same whatever finishes first
                results.append(future.result())
                if progress is not None:
                    progress(1)
    finally:
        _WORKER.pop("judge", None)
    return results


def document_kind(text: str, source: Path | None) -> str:
    """Return how a derivation is read: its file's extension says (txt, md, tex), else its text (LaTeX when
    it holds \\begin{…}, else Markdown, whose rules read plain text too)."""
    if source is not None and str(source) != "-" and source.suffix:
        return kind_of(source.name)
    return "tex" if "\\begin{" in text else "md"


def read_document(path: Path) -> str:
    """Return a derivation file's text (at most MAX_FILE_BYTES of UTF-8), '-' being standard input."""
    try:
        if str(path) == "-":
            import sys
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as file:
                data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ClaimsFileError("error_os", str(path), reason=error.strerror or error) from None
    if len(data) > MAX_FILE_BYTES:
        raise ClaimsFileError("error_file_too_large_mb", str(path), limit=MAX_FILE_BYTES // 1_000_000)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ClaimsFileError("error_not_utf8", str(path)) from None


def gradebook(report: Report) -> str:
    """Return the gradebook of a class's derivations as CSV: one row a student (points, points possible,
    then the points of each quantity the class's lines claim, "earned/possible"), one column a quantity
    named in the claim language (as a handout's answers.csv names it), in the order the class first writes
    them (a quantity a student writes twice: the last line counts)."""
    import csv
    import io
    students = report.students()
    columns: dict = {}
    for _, verdicts in students:
        for verdict in verdicts:
            if verdict.quantity is not None and verdict.verdict not in UNJUDGED:
                columns.setdefault(verdict.quantity, None)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "points", "possible", *[quantity.claim_name() for quantity in columns]])
    for student, verdicts in students:
        last = {v.quantity: v for v in verdicts if v.quantity is not None and v.verdict not in UNJUDGED}
        unnamed = [v for v in verdicts if v.quantity is None and v.verdict not in UNJUDGED]  # unreadable lines
        earned = possible = 0.0
        for verdict in list(last.values()) + unnamed:
            got, out_of = report.points(verdict)
            earned, possible = earned + got, possible + out_of
        cells = ["/".join(map(_number, report.points(last[q]))) if q in last else "" for q in columns]
        writer.writerow([student or "", _number(earned), _number(possible), *cells])
    return out.getvalue()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
