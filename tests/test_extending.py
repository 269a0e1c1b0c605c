"""Extending derive without touching it: a language is one catalogue file, a format one template directory.

Both are added here from a temporary directory, as a user would with --template-dir."""
import re

import yaml
from click.testing import CliRunner

from conftest import ROOT
from derive.cli import cli

ENGLISH = yaml.safe_load((ROOT / "templates" / "i18n" / "en.yaml").read_text(encoding="utf-8"))

# A reStructuredText emitter of the outline (derive/render/outline.py), as a user would write one: a macro per
# kind of block it shows, the derivation's `document` laid out block by block.
RST = """{% macro text(pieces) %}{% for p in pieces %}{{ p.written if p.written is defined else p.text }}{% endfor %}{% endmacro %}
{% for block in document.blocks %}
{% if block.kind == "heading" %}
{{ block.text }}
{{ "=-~"[block.level - 1] * 40 }}

{% elif block.kind == "paragraph" %}
{{ text(block.pieces) }}

{% elif block.kind == "steps" %}
{% for chain in block.chains %}
.. math:: {{ chain.parts|join(" = ") }}

{% endfor %}
{% endif %}
{% endfor %}
"""


def invoke(*arguments):
    return CliRunner().invoke(cli, [str(a) for a in arguments])


def made_up_language(directory):
    """Write a catalogue 'xx' whose every message is a marker (with the message's fields, so formatting works)."""
    def marked(key, value):
        fields = "".join(f" {{{name}}}" for name in re.findall(r"\{(\w+)\}", value))
        return f"⟦{key}⟧{fields}"
    (directory / "i18n").mkdir(parents=True, exist_ok=True)
    catalogue = {key: marked(key, value) for key, value in ENGLISH.items()}
    (directory / "i18n" / "xx.yaml").write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")


def english_sentences(document: str) -> list[str]:
    """Return the catalogue's English sentences (of four words or more) found in `document`."""
    sentences = [value for value in ENGLISH.values() if len(re.findall(r"[A-Za-z]{2,}", value)) >= 4]
    plain = {re.split(r"\{", value)[0].strip() for value in sentences}
    return [sentence for sentence in plain if len(sentence) > 12 and sentence in document]


def test_a_made_up_language_leaves_no_english_in_any_document(tmp_path):
    made_up_language(tmp_path)
    for fmt in ("md", "text", "tex", "html", "json"):
        result = invoke("run", "classic", "-f", fmt, "--lang", "xx", "--template-dir", tmp_path)
        assert result.exit_code == 0, result.output
        assert fmt == "json" or "⟦intro⟧" in result.output, fmt  # JSON holds data, no prose
        assert english_sentences(result.output) == [], fmt
    english = invoke("run", "classic", "-f", "md").output
    assert english_sentences(english)  # the check finds English where there is some


def test_an_emitter_from_a_template_directory_is_a_new_format(tmp_path):
    (tmp_path / "rst").mkdir()
    (tmp_path / "rst" / "derivation.rst.j2").write_text(RST, encoding="utf-8")
    result = invoke("run", "classic", "-f", "rst", "--template-dir", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.count(".. math::") > 40
    assert r"\delta_{o1}" in result.output and "0.138498562" in result.output
    assert "Backward pass\n" + "-" * 40 in result.output and "One training step" in result.output
    assert invoke("run", "classic", "-f", "rst").exit_code == 2  # not a format without that directory


def test_documents_are_the_same_with_or_without_the_template_cache(tmp_path, monkeypatch):
    """Compiled templates are cached on disk; the cache never changes a document, and an unwritable one is a miss."""
    import os
    import subprocess
    import sys
    script = "import derive; print(derive.derive(derive.example('softmax')).render('tex'))"
    run = lambda **env: subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,  # noqa: E731
                                       env={**os.environ, **env}, cwd=ROOT).stdout
    cache = tmp_path / "cache"
    cold, warm = run(XDG_CACHE_HOME=str(cache)), run(XDG_CACHE_HOME=str(cache))
    assert any(cache.rglob("*.cache"))  # the first process filled the cache
    assert cold == warm == run(DERIVE_NO_CACHE="1")
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "derive").write_text("a file where the cache directory would be")
    assert run(XDG_CACHE_HOME=str(blocked)) == cold
