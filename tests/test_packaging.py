"""One installed root: ``launderbench.simulator``, ``launderbench.detectors`` and
``launderbench.benchmarks`` (the three top-level folders, mapped in ``pyproject.toml``).

These tests read the code as text (its ``import`` statements) and the built wheel, so they
also hold for a fresh ``pip install .``: no second import path, the layers point one way
(``benchmarks -> detectors -> simulator``), no import circle, every package installed.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: installed package -> folder in the repository
FOLDERS = {"launderbench": "launderbench", "launderbench.simulator": "simulator",
           "launderbench.detectors": "detectors", "launderbench.benchmarks": "benchmarks"}
OLD_ROOTS = ("simulator", "detectors", "benchmarks")
LAYERS = {"simulator": 0, "detectors": 1, "benchmarks": 2}


def _modules() -> dict[str, Path]:
    """Installed module name -> source file, for every module of the package (the speed
    suite under ``benchmarks/speed`` is a test folder, not part of it)."""
    out = {}
    for pkg, folder in FOLDERS.items():
        base = ROOT / folder
        files = base.glob("*.py") if pkg == "launderbench" else base.rglob("*.py")
        for f in files:
            parts = list(f.relative_to(base).with_suffix("").parts)
            if pkg == "launderbench.benchmarks" and parts[0] == "speed":
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([pkg, *parts])] = f
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """``(imported module, line)`` for every import statement in the file, function-level
    imports included: a lazy import is still a dependency."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1]
                                + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.append((sub if sub in modules else base, node.lineno))
    return out


def _import_graph() -> nx.DiGraph:
    modules = _modules()
    g = nx.DiGraph()
    g.add_nodes_from(modules)
    for name, path in modules.items():
        for target, _ in _imports(name, path, modules):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                g.add_edge(name, target)
    return g


def _python_files() -> list[Path]:
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    return [ROOT / f for f in files if (ROOT / f).exists()]


#: an import of an old top-level name written inside a string (``python -c "..."``,
#: ``python -m ...``, a ``"module:Class"`` entry point)
OLD_IN_STRING = re.compile(
    r"\bfrom (?:simulator|detectors|benchmarks)(?:\.\w+)* import "
    r"|(?:^|[;\"'])\s*(?:>>> )?import (?:simulator|detectors|benchmarks)\b"
    r"|-m (?:simulator|detectors|benchmarks)\b"
    r"|^(?:simulator|detectors|benchmarks)(?:\.\w+)+:\w+$", re.M)


def test_no_module_imports_the_old_top_level_names():
    bad = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if OLD_IN_STRING.search(node.value):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} names an old module "
                               f"in a string: {node.value[:60]!r}")
                continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for n in names:
                if n.split(".")[0] in OLD_ROOTS:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {n}")
    assert not bad, "\n".join(bad)


def test_registry_rows_name_modules_of_the_detectors_layer():
    """Registry rows are imports too: every built-in detector, baselines included, lives in
    ``launderbench.detectors`` (nothing there points up to the benchmark harness), and its
    registry name is its class's ``name``."""
    from launderbench.detectors.registry import BUILTIN, builtin_names, load

    assert len(BUILTIN) >= 24
    for spec in BUILTIN:
        assert spec.startswith("launderbench.detectors."), spec
    names = builtin_names()
    assert sorted(names.values()) == sorted(BUILTIN)
    for name in names:
        assert load(name).name == name


def test_every_module_imports_without_the_old_names():
    import launderbench

    for pkg in ("launderbench.simulator", "launderbench.detectors", "launderbench.benchmarks"):
        mod = importlib.import_module(pkg)
        for info in pkgutil.walk_packages(mod.__path__, prefix=f"{pkg}."):
            importlib.import_module(info.name)
    from launderbench.detectors.registry import builtin_names, load

    for name in builtin_names():
        load(name)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in OLD_ROOTS)
    assert not leaked
    assert launderbench.simulator.make is launderbench.make
    assert isinstance(launderbench.__version__, str)


@pytest.mark.parametrize("lower", ["simulator", "detectors"])
def test_layers_point_one_way(lower):
    g = _import_graph()
    bad = [f"{a} imports {b}" for a, b in g.edges
           if a.split(".")[1:2] == [lower] and b.split(".")[1:2]
           and b.split(".")[1] in LAYERS and LAYERS[b.split(".")[1]] > LAYERS[lower]]
    assert not bad, "\n".join(bad)


def test_no_import_circle():
    cycles = [sorted(c) for c in nx.strongly_connected_components(_import_graph()) if len(c) > 1]
    assert not cycles


def test_pyproject_lists_every_package_folder():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert cfg["package-dir"] == FOLDERS
    listed = set(cfg["packages"])
    # data folders: the presets and the vendored browser library
    expected = {"launderbench", "launderbench.simulator.scenarios",
                "launderbench.benchmarks.vendor"}
    for pkg, folder in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            expected.add(".".join([pkg, *parts]))
    assert listed == expected


@pytest.mark.slow
def test_wheel_installs_one_root(tmp_path):
    """The wheel ``pip install .`` builds holds ``launderbench/...`` only: every module, the
    scenario presets and the licence, and no top-level ``simulator``, ``detectors`` or
    ``benchmarks``."""
    src = tmp_path / "src"  # a copy of the tracked files, as a clean clone has them
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    for rel in tracked:
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                        str(tmp_path), str(src)], capture_output=True, text=True)
    if r.returncode != 0 and "No matching distribution found for setuptools" in r.stderr:
        pytest.skip("the build backend (setuptools) cannot be fetched from the package index")
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = tmp_path.glob("launderbench-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"launderbench"}
    for name, path in _modules().items():
        rel = name.replace(".", "/") + ("/__init__.py" if path.name == "__init__.py" else ".py")
        assert rel in names, rel
    presets = [n for n in names if n.startswith("launderbench/simulator/scenarios/")]
    assert len(presets) == len(list((ROOT / "simulator" / "scenarios").glob("*.toml")))
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    vendored = {n.rsplit("/", 1)[1] for n in names if n.startswith("launderbench/benchmarks/vendor/")}
    assert vendored == {p.name for p in (ROOT / "benchmarks" / "vendor").iterdir()}
