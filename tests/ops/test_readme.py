"""Every code block of the README is an excerpt of a file under docs/examples/ a test runs."""

from __future__ import annotations

import re

from tests.ops.conftest import EXAMPLES, ROOT

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_every_readme_code_block_is_a_tested_example_file() -> None:
    readme = (ROOT / "README.md").read_text()
    sources = {
        path.relative_to(EXAMPLES): path.read_text()
        for path in EXAMPLES.rglob("*")
        if path.suffix in (".py", ".sh")
    }
    blocks = [(lang, body) for lang, body in FENCE.findall(readme) if lang != "text"]
    assert len(blocks) >= 10
    for lang, body in blocks:
        assert lang in ("python", "bash"), f"untested {lang or 'plain'} block:\n{body}"
        suffix = ".py" if lang == "python" else ".sh"
        homes = [p for p, text in sources.items() if p.suffix == suffix and body in text]
        assert homes, f"this README block is in no file under docs/examples/:\n{body}"


def test_the_readme_links_every_example() -> None:
    readme = (ROOT / "README.md").read_text()
    for path in EXAMPLES.rglob("*"):
        if path.suffix in (".py", ".sh") and path.parent == EXAMPLES:
            assert f"docs/examples/{path.name}" in readme
