"""The docs site's sources: API reference coverage, the README's example, the nav hooks.

The site itself is built (strictly, offline) by ``make docs`` in CI; these checks are the fast
part that needs no docs tools.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re

from conftest import REPO

HOOK = REPO / "docs" / "_hooks" / "gen_pages.py"
GENERATED = {"contributing.md"}  # written by the hook from CONTRIBUTING.md


def load_hook():
    spec = importlib.util.spec_from_file_location("gen_pages", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def modules_on_disk() -> set[str]:
    """Every public module, found independently of the hook: each .py file under the package
    directories, minus private names."""
    found = set()
    for dotted, src in {"lava_thesis": REPO / "lava_thesis",
                        "lava_thesis.processes": REPO / "processes"}.items():
        for path in src.glob("**/*.py"):
            parts = path.relative_to(src).with_suffix("").parts
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            if not any(p.startswith("_") for p in parts):
                found.add(".".join((dotted, *parts)))
    return found


def nav_pages(entries) -> list[str]:
    out = []
    for entry in entries:
        for value in entry.values():
            out += nav_pages(value) if isinstance(value, list) else [value]
    return out


def test_every_public_module_has_an_api_page_in_the_nav():
    hook = load_hook()
    expected = modules_on_disk()
    assert {"lava_thesis.report", "lava_thesis.processes.diehl_cook.process",
            "lava_thesis.data.mnist"} <= expected
    config = {"nav": [{"Home": "index.md"}, {"Tutorials": []}, {"API reference": []}]}
    hook.on_config(config)
    api = next(e["API reference"] for e in config["nav"] if "API reference" in e)
    pages = nav_pages(api)
    assert sorted(pages) == sorted(f"api/{m}.md" for m in expected)
    for module in expected:
        text = hook.api_page(module)
        assert text.startswith(f"::: {hook.identifier(module)}\n")
        assert f"heading: {module}\n" in text
    assert hook.identifier("lava_thesis.processes.poisson.process") == "processes.poisson.process"
    assert hook.identifier("lava_thesis.data") == "lava_thesis.data"
    tutorials = next(e["Tutorials"] for e in config["nav"] if "Tutorials" in e)
    assert nav_pages(tutorials) == [f"tutorials/{p.name}"
                                    for p in sorted((REPO / "tutorials").glob("*.ipynb"))]


def test_mkdocs_config_uses_the_hook_and_is_offline():
    text = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert "  - docs/_hooks/gen_pages.py" in text
    assert re.search(r"^  - API reference: \[\]$", text, re.M)
    assert re.search(r"^  - Tutorials: \[\]$", text, re.M)
    assert re.search(r"^  font: false$", text, re.M)
    assert re.search(r"^      execute: false$", text, re.M)
    for page in re.findall(r":\s+([\w/-]+\.md)$", text, re.M):
        assert (REPO / "docs" / page).is_file() or page in GENERATED, page


def test_the_hook_strips_cdn_scripts_and_sphinx_roles():
    hook = load_hook()
    page = ('<p>:func:<code>~a.b</code></p><script type="module">import("https://cdn.x/m.mjs")'
            '</script><script src=""></script><script>local()</script>')
    assert hook.on_post_page(page, None, None) == "<p><code>a.b</code></p><script>local()</script>"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_readme_example_is_the_getting_started_example_and_its_names_exist():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 250
    (example,) = python_blocks(readme)
    assert python_blocks((REPO / "docs" / "getting-started.md").read_text("utf-8")) == [example]
    assert 15 <= len(example.splitlines()) <= 25
    for node in ast.walk(ast.parse(example)):
        if isinstance(node, ast.ImportFrom):
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name):  # a submodule
                    importlib.import_module(f"{node.module}.{alias.name}")


def test_readme_and_docs_link_only_to_files_that_exist():
    for md in [REPO / "README.md", *sorted((REPO / "docs").glob("**/*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)\)", md.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            path = (md.parent / target).resolve()
            docs = (REPO / "docs").resolve()
            # the hook serves results/*.png and tutorials/*.ipynb from the repository root
            served = path.is_relative_to(docs) and (REPO / path.relative_to(docs)).exists()
            assert path.exists() or served or path.name in GENERATED, (md, target)
