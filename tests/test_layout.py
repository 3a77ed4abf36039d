"""The house as the README draws it: the layout block names the files that exist, every module
of the package is in a stage folder the README lists, and no two modules import each other in a
circle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rightsizer"


def _layout_block() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Development"):]
    return section.split("```")[1].strip("\n").splitlines()


def _named_files() -> set[Path]:
    """Every module the layout block names, as a path under rightsizer/: on each line an
    optional folder ("collect/"), then module names, then (after two spaces) a description."""
    named: set[Path] = set()
    top = Path()
    for line in _layout_block()[1:]:
        if not line.startswith("  "):
            break  # templates/, tests/, benchmarks/: outside the package
        nested = line.startswith("    ")
        words = re.split(r"\s{2,}", line.strip())[0].split()
        folder = top if nested else Path()
        if words and words[0].endswith("/"):
            folder = folder / words.pop(0).rstrip("/")
            if not nested:
                top = folder
        for word in words:
            named.add(folder / (word if word.endswith(".py") else f"{word}.py"))
    return named


def test_every_module_the_readme_layout_names_exists():
    missing = sorted(str(path) for path in _named_files() if not (PACKAGE / path).is_file())
    assert not missing, f"README layout names files that do not exist: {missing}"


def test_every_module_of_the_package_sits_where_the_readme_layout_says():
    listed_folders = {path.parent for path in _named_files()}
    for module in PACKAGE.rglob("*.py"):
        relative = module.relative_to(PACKAGE)
        if relative.name == "__init__.py" or relative.name == "__main__.py":
            continue
        assert relative.parent in listed_folders, f"{relative} is in no folder the README lists"


def _imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("rightsizer.")}


def test_no_two_modules_import_each_other_at_the_top_level():
    modules = {".".join(("rightsizer", *path.relative_to(PACKAGE).with_suffix("").parts)): path
               for path in PACKAGE.rglob("*.py") if path.name != "__init__.py"}
    imports = {name: _imports(path) & set(modules) for name, path in modules.items()}
    pairs = sorted((a, b) for a, targets in imports.items() for b in targets
                   if a < b and a in imports.get(b, set()))
    assert not pairs, f"modules importing each other: {pairs}"
