"""Which tests are `unit`: the inner loop, `pytest -m unit`, about a minute in all.

A test is unit unless it is marked slow, starts a component outside this interpreter (a
D-Bus, gnome-keyring, node, bao), logs in at the test OAuth server (HTTP, and a wait for the
first poll), or reaches (itself, through a fixture, or through a helper of tests/) a process
other than the authsome command, or a sleep. This is read from the code, so a new test is
sorted without being marked by hand; tests that are slow in-process (a KDF in a loop,
hypothesis over many examples) or that run the command many times are marked slow where they
are written.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
import types
from pathlib import Path

import clitools
from oauth_server import OAuthServer

TESTS = str(Path(__file__).resolve().parent) + os.sep
# Fixtures that start a component outside this interpreter, for a test or for a module; the
# session's Secret Service costs a test nothing.
OUTSIDE = {
    "fresh_secret_service",
    "hung_secret_service",
    "bare_bus",
    "make_oidc_server",
    "oidc_server",
    "bao_server",
}
COSTLY = {id(subprocess), id(os.fork), id(os.system), id(pty.fork), id(time.sleep)}
CHEAP = {id(clitools.run)}  # the authsome command: what most tests drive, 0.1-0.2 s a call
_NOTHING = object()
_known: dict[int, frozenset] = {}


def is_unit(item) -> bool:
    """Whether `item` is cheap: not slow, nothing outside, no process, sleep or login."""
    if item.get_closest_marker("slow"):
        return False
    fixtures = set(item.fixturenames)
    if OUTSIDE & fixtures:
        return False
    test = getattr(item, "function", None)
    # hypothesis's @given wraps the test; the body is its inner_test
    functions = [getattr(getattr(test, "hypothesis", None), "inner_test", test)]
    for name in fixtures:
        functions += [d.func for d in item._fixtureinfo.name2fixturedefs.get(name, ())]
    found = set().union(*(_costs(f) for f in functions))
    return "costly" not in found and not {"login", "oauth"} <= found


def _costs(obj) -> frozenset:
    """What calling `obj` may cost: "costly"; "oauth" and "login" (both: a login at the test
    OAuth server). Remembered, since fixtures and helpers are shared by many tests."""
    if id(obj) in COSTLY:
        return frozenset({"costly"})
    if id(obj) in CHEAP:
        return frozenset()
    if obj is OAuthServer:
        return frozenset({"oauth"})
    if isinstance(obj, type):
        obj = vars(obj).get("__init__")
    obj = getattr(obj, "__func__", obj)  # a bound method
    code = getattr(obj, "__code__", None)
    if code is None or not code.co_filename.startswith(TESTS):
        return frozenset()
    if id(obj) not in _known:
        _known[id(obj)] = frozenset()  # while it is read: a recursion costs nothing more
        _known[id(obj)] = frozenset(_code_costs(code, obj.__globals__))
    return _known[id(obj)]


def _code_costs(code, scope: dict) -> set[str]:
    # The names a function uses (globals, attributes, imported modules and names), each read
    # as a global, a loaded module, or an attribute of a module it uses (time.sleep: the module
    # time and the name sleep). Coarse and cheap: a false "costly" only leaves a test out.
    found, names = set(), code.co_names
    objs = [scope.get(n, _NOTHING) for n in names] + [sys.modules.get(n, _NOTHING) for n in names]
    for module in [o for o in objs if isinstance(o, types.ModuleType)]:
        objs += [getattr(module, n, _NOTHING) for n in names]
    for obj in objs:
        if obj is not _NOTHING:
            found |= _costs(obj)
    # run(["login", ...]): a list of constants is compiled from a tuple of them
    if any(c == "login" or (isinstance(c, tuple) and "login" in c) for c in code.co_consts):
        found.add("login")
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _code_costs(const, scope)
    return found
