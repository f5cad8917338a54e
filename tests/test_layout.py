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
    },
    # run --proxy's I/O and its pure router; fresh() reaches it as a callable, never imported
    "proxy": {"providers", "util", "storage.connections"},
    "oauth": {"providers", "ui", "util", "storage.connections", "storage.registrations"},
    "storage": {"providers", "shells", "ui", "util", "settings"},
    "providers": {"oauth.__init__", "util"},
    "formats": {"shells", "util"},
    "shells": {"util"},
    "ui": {"util"},
    "util": set(),
}
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _imported(path: Path) -> set[str]:
    """The authsome modules `path` imports (relative to the package, e.g. 'storage.index')."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
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


def _allowed(layer: str, target: str) -> bool:
    if target == "errors" or _layer(target) == layer or target == "__version__":
        return True
    for rule in ALLOWED[layer]:
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
    assert _allowed("providers", "oauth")
    assert not _allowed("providers", "oauth.pkce")
