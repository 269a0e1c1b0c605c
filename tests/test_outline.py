"""The outline of a document (derive/render/outline.py): its blocks, and its tables against ../shared/reference."""
import pytest

import derive
from derive.render import Options, document
from derive.render.outline import Chain, Formulas, Heading, Math, Paragraph, Steps, Table, Text


@pytest.fixture(scope="module")
def outline():
    derivation = derive.derive(derive.example("classic"), verify=True)
    return document(derivation, "text", Options(digits=12))


def cells(table: Table) -> list[list[str]]:
    return [["".join(p.written if isinstance(p, Math) else p.text for p in cell) for cell in row] for row in table.rows]


def tables(outline) -> dict[str, Table]:
    return {block.role: block for block in outline.blocks if isinstance(block, Table)}


def test_given_values_and_layers(outline):
    given, layers = tables(outline)["given"], tables(outline)["layers"]
    rows = cells(given)
    assert rows[:2] == [["i1", "0.05"], ["i2", "0.1"]] and rows[2:4] == [["target_o1", "0.01"], ["target_o2", "0.99"]]
    assert ["w5", "0.4"] in rows and rows[-1] == ["η (Learning rate)", "0.5"]
    assert len(rows) == 2 + 2 + 10 + 1
    assert [row[:2] for row in cells(layers)] == [["1", "h1, h2"], ["2", "o1, o2"]]
    assert all(isinstance(piece, (Math, Text)) for row in given.rows for cell in row for piece in cell)


def test_after_and_summary_hold_the_reference_figures(outline, reference):
    after = {row[0]: (float(row[1]), float(row[2])) for row in cells(tables(outline)["after"])}
    assert after["E_total"][0] == pytest.approx(reference["loss"], rel=1e-11)
    assert after["E_total"][1] == pytest.approx(reference["loss_after_update"], rel=1e-11)
    assert after["out_o1"][0] == pytest.approx(reference["forward"]["o1"]["out"], rel=1e-11)
    summary = {row[0]: row for row in cells(tables(outline)["summary"])}
    for name, gradient in reference["gradient"].items():
        assert float(summary[name][1]) == pytest.approx(gradient, rel=1e-11), name
        updated = summary[name][2].split(" (")[0]
        assert float(updated) == pytest.approx(reference["updated"][name], rel=1e-11), name
    assert summary["b1"][2].endswith("(Not updated.)")  # the classic example does not update its biases


def test_self_check_table_is_there_only_when_verified(outline):
    assert len(tables(outline)["verification"].rows) == 10
    plain = document(derive.derive(derive.example("classic")), "text")
    assert "verification" not in tables(plain)


def test_the_steps_are_the_reference_figures_in_order(outline, reference):
    """Every step of the forward pass, the backward pass and the updates is a chain ending in its value."""
    chains = outline.chains()
    values = {chain.parts[0]: float(chain.parts[-1]) for chain in chains}
    for unit, figures in reference["forward"].items():
        assert values[f"out_{unit}"] == pytest.approx(figures["out"], rel=1e-11), unit
    for name, gradient in reference["gradient"].items():
        assert values[f"∂E/∂{name}"] == pytest.approx(gradient, rel=1e-11), name
    for name, updated in reference["updated"].items():
        if not name.startswith("b"):  # the classic example does not update its biases
            assert values[f"{name}⁺"] == pytest.approx(updated, rel=1e-11), name
    sections = [chain.step.section for chain in chains]
    assert sections == sorted(sections, key=["forward", "loss", "backward", "update"].index)


def test_the_document_is_its_sections_in_order_with_the_general_rule(outline):
    numbered = [block.text for block in outline.blocks if isinstance(block, Heading) and block.number]
    assert numbered == ["Forward pass", "Loss", "Backward pass", "Updates", "After the update"]
    rules = [block for block in outline.blocks if isinstance(block, Formulas)]
    assert len(rules) == 2  # one hidden layer's δ rule, then the update rule
    delta, gradient = rules[0].chains
    assert delta[0] == "δ_j" and "Σ_k" in delta[-1] and gradient[0] == "∂E/∂w_ji"
    (update,) = rules[1].chains  # SGD, from the catalogue's formula: p⁺ = p − η·∂E/∂p
    assert update == ("p⁺", "p - η·∂E/∂p")
    roles = [block.role for block in outline.blocks if isinstance(block, Paragraph)]
    assert roles.count("pitfall") == 1 and roles[-1] == "closing"
    assert all(isinstance(chain, Chain) for block in outline.blocks if isinstance(block, Steps) for chain in block.chains)
