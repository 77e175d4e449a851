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
        if path.suffix in (".py", ".sh", ".toml")
    }
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    blocks = [(lang, body) for lang, body in FENCE.findall(readme) if lang != "text"]
    assert len(blocks) >= 10
    for lang, body in blocks:
        suffixes = {"python": ".py", "bash": ".sh", "toml": ".toml"}
        assert lang in suffixes, f"untested {lang or 'plain'} block:\n{body}"
        suffix = suffixes[lang]
        homes = [p for p, text in sources.items() if p.suffix == suffix and body in text]
        assert homes, f"this README block is in no file under docs/examples/:\n{body}"
        assert any(home.name in tests for home in homes), f"no test runs {homes}"
