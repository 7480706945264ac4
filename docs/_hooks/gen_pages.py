"""MkDocs hook: generate the API reference, the tutorials and the contributing page at build time.

- API reference: one page per public module of ``lava_thesis`` and ``lava_thesis.processes``,
  found by walking the package tree (``lava_thesis/`` and ``processes/``), so a new module gets
  its page without anyone editing ``mkdocs.yml``. A module is public when no part of its dotted
  name starts with ``_`` (``__init__.py`` stands for its package).
- Tutorials: every ``tutorials/*.ipynb``, rendered by mkdocs-jupyter from its stored outputs.
- Plots: every ``results/*.png``, so that method pages can show them.
- ``contributing.md``: the repository's ``CONTRIBUTING.md``.
- Offline: the notebook template's lazy loader of mermaid from a CDN is removed from each page,
  and after the build any page that still loads a script or style sheet from the network is a
  warning (so ``mkdocs build --strict`` fails).

The nav entries "Tutorials" and "API reference" in ``mkdocs.yml`` are filled here.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

try:
    from mkdocs.plugins import event_priority
except ImportError:  # the tests import this file without the docs extra installed

    def event_priority(priority):
        return lambda func: func

ROOT = Path(__file__).resolve().parents[2]
# dotted package name -> source directory (processes/ ships as lava_thesis.processes)
PACKAGES = {"lava_thesis": ROOT / "lava_thesis", "lava_thesis.processes": ROOT / "processes"}
API_DIR = "api"
LOG = logging.getLogger("mkdocs.hooks.gen_pages")
_CDN_MODULE = re.compile(r'<script type="module">(?:(?!</script>).)*?https?://(?:(?!</script>).)*?'
                         r"</script>", re.S)
_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj|const):(<code>)~?")
_EMPTY_SCRIPT = re.compile(r'<script src="">\s*</script>')
_EXTERNAL = re.compile(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"')


def public_modules(packages: dict[str, Path] = PACKAGES) -> list[str]:
    """Dotted names of every public module and package under ``packages``, sorted."""
    names: set[str] = set()
    for dotted, src in packages.items():
        for path in src.rglob("*.py"):
            rel = path.relative_to(src).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if any(p.startswith("_") for p in parts):
                continue
            names.add(".".join([dotted, *parts]))
    return sorted(names)


def identifier(module: str) -> str:
    """The name mkdocstrings loads ``module`` by: ``lava_thesis.processes.x`` lives in the
    top-level directory ``processes/`` (an install maps it), so it is read as ``processes.x``."""
    prefix = "lava_thesis.processes"
    if module == prefix or module.startswith(prefix + "."):
        return "processes" + module[len(prefix):]
    return module


def api_page(module: str) -> str:
    """The Markdown of ``module``'s API page."""
    return (f"::: {identifier(module)}\n"
            f"    options:\n"
            f"      heading: {module}\n"
            f"      toc_label: {module}\n")


def api_uri(module: str) -> str:
    return f"{API_DIR}/{module}.md"


def api_nav(modules: list[str]) -> list:
    """Nav entries: one section per subpackage ``lava_thesis.X`` (the package page first, then
    its modules), and a section ``lava_thesis`` for the package and its top-level modules."""
    packages = {m for m in modules if any(o.startswith(m + ".") for o in modules)}
    sections: dict[str, list] = {"lava_thesis": []}
    for module in modules:
        key = ".".join(module.split(".")[:2])
        key = key if key in packages and key != "lava_thesis" else "lava_thesis"
        sections.setdefault(key, []).append({module: api_uri(module)})
    return [{name: entries} for name, entries in sections.items()]


def notebooks() -> list[Path]:
    return sorted((ROOT / "tutorials").glob("*.ipynb"))


def notebook_title(path: Path) -> str:
    """The first Markdown heading of the notebook, else its file name."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return path.stem
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        for line in "".join(cell.get("source", "")).splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip()
    return path.stem


def _fill_nav(nav: list, title: str, entries: list) -> None:
    for item in nav:
        if isinstance(item, dict) and title in item:
            item[title] = entries
            return
    nav.append({title: entries})


def on_config(config):
    modules = public_modules()
    _fill_nav(config["nav"], "API reference", api_nav(modules))
    tutorials = [{notebook_title(p): f"tutorials/{p.name}"} for p in notebooks()]
    _fill_nav(config["nav"], "Tutorials", tutorials)
    return config


@event_priority(100)  # before mkdocs-jupyter turns the notebooks into pages
def on_files(files, config):
    from mkdocs.structure.files import File

    for module in public_modules():
        files.append(File.generated(config, api_uri(module), content=api_page(module)))
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    files.append(File.generated(config, "contributing.md", content=contributing))
    for path in [*notebooks(), *sorted((ROOT / "results").glob("*.png"))]:
        src_uri = path.relative_to(ROOT).as_posix()
        files.append(File(src_uri, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def on_post_page(output: str, page, config) -> str:
    output = _ROLE.sub(r"\1", output)  # Sphinx roles in docstrings: keep the code, drop the role
    return _EMPTY_SCRIPT.sub("", _CDN_MODULE.sub("", output))


def on_post_build(config) -> None:
    for path in sorted(Path(config["site_dir"]).rglob("*.html")):
        for match in _EXTERNAL.findall(path.read_text(encoding="utf-8")):
            if 'rel="canonical"' not in match:
                LOG.warning("%s loads %s from the network; the site must work offline",
                            path, match)
