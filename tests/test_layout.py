"""The package's shape, as rules a test can hold: which layer may import which, and how big a
module or a function may grow. The README's module map describes the same rules; the guard
that only cli/ imports click is in test_cli.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "authsome"

# What each layer may import from authsome, besides itself and errors.py. Everything not
# listed is refused: a new edge is a design decision, made here, not in passing.
ALLOWED = {
    # thin commands: parse, call a service, print
    "cli": {"services", "ui", "shells", "formats", "oauth.__init__", "factory", "main"},
    "services": {
        "storage",
        "oauth",
        "providers",
        "shells",
        "formats",
        "ui",
        "util",
        "settings",
        "proxy",
        "sandbox",
    },
    # run --proxy's I/O and its pure router; fresh() reaches it as a callable, never imported
    "proxy": {"providers", "util", "storage.connections"},
    # run --proxy --sandbox: bwrap's arguments, the filter, the forwarder; no proxy, no store
    "sandbox": {"util"},
    "oauth": {"providers", "ui", "util", "storage.connections", "storage.registrations"},
    "storage": {"providers", "shells", "ui", "util"},
    "providers": {"util"},
    "formats": {"shells", "util"},
    "shells": {"util"},
    "ui": {"util"},
    "util": set(),
}
# What a layer may name for the type checker alone, beyond ALLOWED: the Context that the
# factory builds and hands down, which services and flows take as `ctx`. Such an import never
# runs (it sits under `if TYPE_CHECKING:`), so it adds no load-time edge and no circle.
TYPE_ONLY = {"services": {"factory"}, "oauth": {"factory"}}
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _type_only(tree: ast.AST) -> set[int]:
    """The ids of the nodes under `if TYPE_CHECKING:`: imports for the type checker, never run."""
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
        for stmt in node.body
        for inner in ast.walk(stmt)
    }


def _imported(path: Path, type_only: bool = False) -> set[str]:
    """The authsome modules `path` imports (relative to the package, e.g. 'storage.index'): at
    run time, or with type_only, those its `if TYPE_CHECKING:` blocks import."""
    found = set()
    tree = ast.parse(path.read_text())
    checking = _type_only(tree)
    for node in ast.walk(tree):
        if (id(node) in checking) != type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("authsome"):
            base = node.module.removeprefix("authsome").lstrip(".")
            if base:
                found.add(base)
            else:  # from authsome import x
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("authsome.")
                for a in node.names
                if a.name.startswith("authsome.")
            )
    return found


def _layer(module: str) -> str:
    return module.split(".")[0]


def _allowed(layer: str, target: str, type_only: bool = False) -> bool:
    if target == "errors" or _layer(target) == layer or target == "__version__":
        return True
    for rule in ALLOWED[layer] | (TYPE_ONLY.get(layer, set()) if type_only else set()):
        if rule.endswith(".__init__"):
            if target == rule.removesuffix(".__init__"):
                return True
        elif target == rule or target.startswith(rule + "."):
            return True
    return False


def test_every_layer_imports_only_what_its_rule_allows():
    wrong = []
    for path, module in _modules():
        layer = _layer(module)
        if layer not in ALLOWED:
            continue
        wrong += [f"{module} -> {t}" for t in _imported(path) if not _allowed(layer, t)]
        wrong += [
            f"{module} -> {t} (type only)"
            for t in _imported(path, type_only=True)
            if not _allowed(layer, t, type_only=True)
        ]
    assert wrong == []


def test_stores_are_built_in_the_factory_only():
    """Outside storage/, only factory.py names a store class; everything else reaches the stores
    through ctx.connections, ctx.registrations and ctx.index."""
    wrong = []
    for path, module in _modules():
        if _layer(module) == "storage" or module == "factory":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "authsome.storage"
            ):
                wrong += [f"{module} -> {a.name}" for a in node.names if a.name.endswith("Store")]
    assert wrong == []


def test_only_the_factory_opens_the_vault_store():
    """The OpenBao/Vault store loads only when chosen: nothing but factory.py (and the store's
    own package) imports it, so no other store's path pays for it."""
    wrong = [
        module
        for path, module in _modules()
        if not module.startswith("storage.vault") and module != "factory"
        for target in _imported(path)
        if target == "storage.vault" or target.startswith("storage.vault.")
    ]
    assert wrong == []


def test_no_raw_store_calls_outside_storage():
    """get/set/delete/list on a store happen inside the typed repositories only."""
    wrong = []
    for path, module in _modules():
        if _layer(module) == "storage":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("get", "set", "delete", "list")
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "store"
            ):
                wrong.append(f"{module}:{node.lineno}")
    assert wrong == []


@pytest.mark.parametrize("path,module", list(_modules()), ids=[m for _, m in _modules()])
def test_modules_and_functions_stay_small(path, module):
    text = path.read_text()
    assert text.count("\n") <= MAX_MODULE_LINES, f"{module}: {text.count(chr(10))} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = node.end_lineno - node.lineno + 1
            assert lines <= MAX_FUNCTION_LINES, f"{module}.{node.name}: {lines} lines"


def test_the_rules_see_a_wrong_edge():
    """The checker itself: a storage module importing a service is caught."""
    assert not _allowed("storage", "services.login")
    assert not _allowed("cli", "storage.connections")
    assert _allowed("cli", "services.login")
    assert not _allowed("providers", "oauth")
    assert not _allowed("storage", "settings")
    assert _allowed("services", "factory", type_only=True)
    assert not _allowed("services", "factory") and not _allowed("storage", "factory", True)


def test_type_only_imports_are_told_apart(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "from authsome.util import lazy\n"
        "TYPE_CHECKING = False\n"
        "if TYPE_CHECKING:\n    from authsome.factory import Context\n"
        "else:\n    from authsome.ui import streams\n"
    )
    assert _imported(path) == {"util", "ui"}
    assert _imported(path, type_only=True) == {"factory"}


def _graph() -> dict[str, set[str]]:
    """Module -> the authsome modules it imports, at any depth (function-level too), with
    `from authsome.a import b` read as the module a.b when b is one. Imports under
    `if TYPE_CHECKING:` never run, so they make no circle and are left out."""
    names = {".".join(m.split(".")[:-1]) if m.endswith(".__init__") else m for _, m in _modules()}

    def resolve(target: str) -> str:
        while target and target not in names:
            target = target.rpartition(".")[0]
        return target

    graph = {}
    for path, module in _modules():
        module = module.removesuffix(".__init__")
        edges = set()
        tree = ast.parse(path.read_text())
        checking = _type_only(tree)
        for node in ast.walk(tree):
            if id(node) in checking:
                continue
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("authsome"):
                base = node.module.removeprefix("authsome").lstrip(".")
                edges |= {resolve(f"{base}.{a.name}".lstrip(".")) for a in node.names}
            elif isinstance(node, ast.Import):
                edges |= {
                    resolve(a.name.removeprefix("authsome."))
                    for a in node.names
                    if a.name.startswith("authsome.")
                }
        graph[module] = edges - {module, ""}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, edges = work[-1]
            child = next((e for e in edges if e in graph), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = stack[stack.index(node) :]
                del stack[stack.index(node) :]
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_import_circles_function_level_imports_included():
    assert _circles(_graph()) == []


def test_the_circle_finder_sees_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []
