"""The layout's rules, checked on the source: dependencies point one way (no import cycle),
no module calls another's private helpers, functions stay short, and `--help` stays fast."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "aekit"
MAX_FUNCTION_LINES = 60  # code lines (the docstring, comments and blank lines not counted)


def modules():
    """{module name: AST} for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = ast.parse(path.read_text(), filename=str(path))
    return out


MODULES = modules()


def _package_of(name):
    """The package a module's relative imports start from."""
    is_package = (PACKAGE.parent / Path(*name.split(".")) / "__init__.py").exists()
    return name if is_package else name.rpartition(".")[0]


def imports_of(name, tree):
    """The package's modules that ``name`` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = _package_of(name).split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            # "from x import y" imports x, and x.y when y is a module
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != name)
    return found


def find_cycle(graph):
    """One import cycle (a list of modules), or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = "open"
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == "open":
                return stack[stack.index(m):] + [m]
            if m not in state:
                cycle = visit(m)
                if cycle:
                    return cycle
        state[n] = "done"
        stack.pop()
        return None

    for n in sorted(graph):
        if n not in state:
            cycle = visit(n)
            if cycle:
                return cycle
    return None


def test_no_import_cycle_in_the_package():
    graph = {name: imports_of(name, tree) for name, tree in MODULES.items()}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))
    # the checker does see imports and cycles (a control)
    assert "aekit.model_file" in graph["aekit.loading"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def _private_definitions(modules):
    """{private function or method name: modules defining it}."""
    out = {}
    for name, tree in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    node.name.startswith("_") and not node.name.startswith("__"):
                out.setdefault(node.name, set()).add(name)
    return out


def private_uses(modules):
    """Where a module imports or calls a private function or method of another module."""
    private = _private_definitions(modules)
    offences = []
    for name, tree in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                offences += [f"{name} imports {a.name}" for a in node.names
                             if a.name.startswith("_") and not a.name.startswith("__")
                             and a.name in private and name not in private[a.name]]
            if isinstance(node, ast.Attribute) and node.attr in private:
                owner = node.value.id if isinstance(node.value, ast.Name) else None
                if owner not in ("self", "cls") and name not in private[node.attr]:
                    offences.append(f"{name} uses {ast.unparse(node)} "
                                    f"(private to {', '.join(sorted(private[node.attr]))})")
    return offences


def test_no_module_calls_another_modules_private_helpers():
    offences = private_uses(MODULES)
    assert not offences, "\n".join(offences)
    # the checker does see one (a control)
    control = {"a": ast.parse("class A:\n    def _fit(self):\n        self._fit()\n"),
               "b": ast.parse("from a import _helper\ndef f(est):\n    est._fit(resume=1)\n"),
               "c": ast.parse("def _helper():\n    pass\n")}
    assert private_uses(control) == ["b imports _helper", "b uses est._fit (private to a)"]


def _code_lines(node):
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    lines = set()
    for stmt in body:
        for sub in ast.walk(stmt):
            if hasattr(sub, "lineno"):
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return len(lines)


def test_no_function_is_over_sixty_lines():
    long = []
    for name, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(node)
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {n} lines")
    assert not long, "\n".join(long)


@pytest.mark.parametrize("args", [["--help"], ["detect", "--help"], ["train", "--help"]])
def test_help_imports_neither_torch_nor_sklearn(args):
    code = ("import sys\nfrom aekit.cli import cli\n"
            f"try:\n    cli({args!r})\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'pandas') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


# -- layers: data flows down without climbing back ---------------------------------------
# Each module's layer, from the bottom; a module imports modules of its own layer or lower
# ones only. The first name that prefixes a module decides (the longest listed first).
LAYERS = [
    ("foundations", ["aekit.errors", "aekit.atomic", "aekit.device", "aekit.concurrency",
                     "aekit.plots", "aekit.datasets"]),
    ("numerics", ["aekit.scores", "aekit.thresholds", "aekit.nn"]),
    ("formats", ["aekit.params", "aekit.model_file", "aekit.state", "aekit.preprocessing",
                 "aekit.tables", "aekit.images", "aekit.photos", "aekit.image_patches",
                 "aekit.pretrained"]),
    ("planning", ["aekit.design", "aekit.inference", "aekit.model_input"]),
    ("estimators", ["aekit.autoencoder", "aekit.pca_model", "aekit.anomaly",
                    "aekit.photo_denoiser", "aekit.variational"]),
    ("opening", ["aekit.loading", "aekit.checkpoint", "aekit.scorer"]),
    ("jobs", ["aekit.training_job", "aekit.training_data", "aekit.image_training",
              "aekit.table_detection",
              "aekit.flagging", "aekit.labels", "aekit.reports", "aekit.codes",
              "aekit.imputation", "aekit.denoising", "aekit.generation", "aekit.distributed",
              "aekit.evaluation"]),
    ("command line", ["aekit.cli", "aekit.__main__"]),
]


def layer_of(module):
    """The index of ``module``'s layer in :data:`LAYERS` (None for the package itself)."""
    best = None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > best[1]):
                best = (i, len(p))
    return None if best is None else best[0]


def upward_imports(modules):
    """Where a module imports one of a higher layer: ``"a (jobs) imports b (command line)"``."""
    out = []
    for name, tree in modules.items():
        mine = layer_of(name)
        for other in sorted(imports_of(name, tree)):
            theirs = layer_of(other)
            if mine is not None and theirs is not None and theirs > mine:
                out.append(f"{name} ({LAYERS[mine][0]}) imports {other} ({LAYERS[theirs][0]})")
    return out


def test_every_module_has_a_layer():
    assert [m for m in MODULES if m != "aekit" and layer_of(m) is None] == []


def test_imports_go_down_the_layers():
    offences = upward_imports(MODULES)
    assert not offences, "\n".join(offences)
    # the checker does see one (a control)
    control = {"aekit.scores": ast.parse("from .cli import main\n"),
               "aekit.cli": ast.parse("")}
    assert upward_imports(control) == ["aekit.scores (numerics) imports aekit.cli (command line)"]


# -- library code speaks in parameter names; only the command line speaks in flags --------
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def _docstrings(tree):
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def flags_in_messages(modules):
    """Strings of library modules (not the CLI's, not docstrings) that name a flag."""
    found = []
    for name, tree in modules.items():
        if name == "aekit.cli" or name.startswith("aekit.cli."):
            continue
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    id(node) not in docs and FLAG.search(node.value):
                found.append(f"{name}: {node.value.strip()[:70]!r}")
    return found


def test_library_messages_name_parameters_not_flags():
    offences = flags_in_messages(MODULES)
    assert not offences, "\n".join(offences)
    control = {"aekit.x": ast.parse('"""Docs may show `aekit train --data`."""\n'
                                    'raise ValueError("lower the rate (--lr)")\n')}
    assert flags_in_messages(control) == ["aekit.x: 'lower the rate (--lr)'"]
