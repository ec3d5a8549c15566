"""The layout's rules, checked on the source: dependencies point one way (no import cycle),
no module calls another's private helpers, functions stay short, and `--help` stays fast."""

import ast
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
