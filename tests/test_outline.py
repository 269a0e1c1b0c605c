"""The outline's tables (derive/render/outline.py), checked against ../shared/reference's figures."""
import pytest

import derive
from derive.render import Options, document_context, template_root
from derive.render.outline import Math, Table, Text


@pytest.fixture(scope="module")
def context():
    derivation = derive.derive(derive.example("classic"), verify=True)
    return document_context(derivation, template_root(), "text", Options(digits=12))


def cells(table: Table) -> list[list[str]]:
    return [["".join(p.written if isinstance(p, Math) else p.text for p in cell) for cell in row] for row in table.rows]


def test_given_values_and_layers(context):
    given, layers = context["given_tables"]
    rows = cells(given)
    assert rows[:2] == [["i1", "0.05"], ["i2", "0.1"]] and rows[2:4] == [["target_o1", "0.01"], ["target_o2", "0.99"]]
    assert ["w5", "0.4"] in rows and rows[-1] == ["η (Learning rate)", "0.5"]
    assert len(rows) == 2 + 2 + 10 + 1
    assert [row[:2] for row in cells(layers)] == [["1", "h1, h2"], ["2", "o1, o2"]]
    assert all(isinstance(piece, (Math, Text)) for row in given.rows for cell in row for piece in cell)


def test_after_and_summary_hold_the_reference_figures(context, reference):
    after = {row[0]: (float(row[1]), float(row[2])) for row in cells(context["after_table"])}
    assert after["E_total"][0] == pytest.approx(reference["loss"], rel=1e-11)
    assert after["E_total"][1] == pytest.approx(reference["loss_after_update"], rel=1e-11)
    assert after["out_o1"][0] == pytest.approx(reference["forward"]["o1"]["out"], rel=1e-11)
    summary = {row[0]: row for row in cells(context["summary_table"])}
    for name, gradient in reference["gradient"].items():
        assert float(summary[name][1]) == pytest.approx(gradient, rel=1e-11), name
        updated = summary[name][2].split(" (")[0]
        assert float(updated) == pytest.approx(reference["updated"][name], rel=1e-11), name
    assert summary["b1"][2].endswith("(Not updated.)")  # the classic example does not update its biases


def test_self_check_table_is_there_only_when_verified(context):
    assert len(context["verification_table"].rows) == 10
    plain = derive.derive(derive.example("classic"))
    assert document_context(plain, template_root(), "text")["verification_table"] is None
