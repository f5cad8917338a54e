"""Which tests are `unit`: the inner loop, `pytest -m unit`, about a minute in all.

A test is unit unless it is marked real or slow, uses a component that runs outside this
interpreter (a D-Bus, gnome-keyring, node, bao), or reaches (itself, through a fixture, or
through a helper of tests/) a process other than the authsome command, or a sleep. The
authsome command itself is cheap (0.1-0.2 s a call) and is what most tests drive, but not with
the test OAuth server: a login there polls for a second. It is read from the bytecode, so a new
test is sorted without being marked by hand; tests that are slow in-process (a KDF in a loop,
hypothesis over many examples) are marked slow where they are written.
"""

from __future__ import annotations

import dis
import importlib
import os
import pty
import subprocess
import time
import types
from pathlib import Path

import clitools

TESTS = Path(__file__).resolve().parent
# Fixtures that start a component outside this interpreter.
OUTSIDE = {
    "secret_service",
    "fresh_secret_service",
    "hung_secret_service",
    "bare_bus",
    "make_oidc_server",
    "oidc_server",
    "bao_server",
    "vault_env",
}
OAUTH = {"oauth_server", "testsrv"}
COSTLY = {id(subprocess), id(os.fork), id(os.system), id(pty.fork), id(time.sleep)}
CLI = {id(clitools.run)}
LOADS = ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF")
_NOTHING = object()


def is_unit(item) -> bool:
    """Whether `item` is cheap: no real or slow mark, nothing outside, no process, no sleep."""
    if item.get_closest_marker("real") or item.get_closest_marker("slow"):
        return False
    fixtures = set(item.fixturenames)
    if OUTSIDE & fixtures:
        return False
    test = getattr(item, "function", None)
    # hypothesis's @given wraps the test; the body is its inner_test
    functions = [getattr(getattr(test, "hypothesis", None), "inner_test", test)]
    for name in fixtures:
        functions += [d.func for d in item._fixtureinfo.name2fixturedefs.get(name, ())]
    found: set[str] = set()
    seen: set[int] = set()
    for function in functions:
        _reach(function, seen, found)
    return "costly" not in found and not ("cli" in found and OAUTH & fixtures)


def _reach(obj, seen: set[int], found: set[str]) -> None:
    """Add to `found` what calling `obj` may cost: "costly", or "cli" (the authsome command)."""
    if id(obj) in COSTLY:
        found.add("costly")
        return
    if id(obj) in CLI:
        found.add("cli")
        return
    if isinstance(obj, type):
        obj = vars(obj).get("__init__")
    obj = getattr(obj, "__func__", obj)  # a bound method
    code = getattr(obj, "__code__", None)
    if code is None or id(obj) in seen or not Path(code.co_filename).is_relative_to(TESTS):
        return
    seen.add(id(obj))
    _reach_code(code, obj.__globals__, seen, found)


def _reach_code(code, scope: dict, seen: set[int], found: set[str]) -> None:
    module = None  # the module just loaded, whose attribute may come next
    for ins in dis.get_instructions(code):
        obj = _NOTHING
        if ins.opname in LOADS:
            obj = scope.get(ins.argval, _NOTHING)
        elif ins.opname == "IMPORT_NAME":
            obj = _module(ins.argval)
        elif ins.opname in ("IMPORT_FROM", "LOAD_ATTR", "LOAD_METHOD") and module is not None:
            obj = getattr(module, ins.argval, _NOTHING)
        module = obj if isinstance(obj, types.ModuleType) else None
        if obj is not _NOTHING:
            _reach(obj, seen, found)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _reach_code(const, scope, seen, found)


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return _NOTHING
