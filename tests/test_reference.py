"""The classic example against the independently computed reference figures (PyTorch, float64)."""
import json
import math

from click.testing import CliRunner

from derive.cli import cli


def _figures(reference):
    for unit, pair in reference["forward"].items():
        yield f"net {unit}", pair["net"]
        yield f"out {unit}", pair["out"]
    yield "loss", reference["loss"]
    for group in ("delta", "gradient", "updated"):
        for name, value in reference[group].items():
            yield f"{group} {name}", value
    yield "loss after update", reference["loss_after_update"]


def test_default_run_shows_every_reference_figure(reference):
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 0
    for label, value in _figures(reference):
        assert f"{value:.9g}" in result.output, label


def test_json_matches_reference_to_1e12(reference):
    result = CliRunner().invoke(cli, ["run", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    for key in ("forward", "loss", "delta", "gradient", "updated", "loss_after_update"):
        assert key in data
    close = lambda a, b: math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)  # noqa: E731
    for unit, pair in reference["forward"].items():
        assert close(data["forward"][unit]["net"], pair["net"])
        assert close(data["forward"][unit]["out"], pair["out"])
    assert close(data["loss"], reference["loss"])
    for group in ("delta", "gradient", "updated"):
        assert set(data[group]) == set(reference[group])
        for name, value in reference[group].items():
            assert close(data[group][name], value), (group, name)
    assert close(data["loss_after_update"], reference["loss_after_update"])


def test_published_figure_is_not_reproduced(reference):
    """The seed's printed error after one update is wrong; derive gives the correct one."""
    data = json.loads(CliRunner().invoke(cli, ["run", "-f", "json"]).output)
    published = reference["published_vs_correct"]["E after one update"]["published in seed 000"]
    assert not math.isclose(data["loss_after_update"], published, rel_tol=1e-8)
