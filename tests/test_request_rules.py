"""Request rules for `run --proxy` (--allow, --policy, --read-only): the matcher by table and by
property over hostile paths, and through the installed CLI with the real proxy, real curl and
an upstream that keeps every byte it receives: a denied request gets 403, carries no
credential, never arrives, and is a `denied` line in the audit log."""

import json
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from clitools import run
from hypothesis import example, given, settings
from hypothesis import strategies as st
from realparts import require

from authsome.proxy.rules import NO_RULE, BadRule, Rules, parse, parse_lines, read_only, uncovered

GH = ("api.github.com", 443)
ACME = Rules([parse("GET api.github.com/repos/acme/*")])


# --- the grammar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,shown",
    [
        ("GET api.github.com/repos/acme/*", "GET api.github.com/repos/acme/*"),
        ("get API.GitHub.com/user", "GET api.github.com/user"),
        ("*   127.0.0.1:8443/*", "* 127.0.0.1:8443/*"),
        ("\tGET,head,OPTIONS *.corp.example/v1/*  ", "GET,HEAD,OPTIONS *.corp.example/v1/*"),
        ("POST api.x.com/v1/ac%6De/a%2fb", "POST api.x.com/v1/acme/a%2Fb"),  # normal form
        ("GET api.x.com/", "GET api.x.com/"),
    ],
)
def test_a_rule_is_read_as_written(text, shown):
    assert repr(parse(text)) == shown


@pytest.mark.parametrize(
    "text,what",
    [
        ("", "a method and a HOST/PATH"),
        ("GET", "a method and a HOST/PATH"),
        ("GET api.x.com/a extra", "a method and a HOST/PATH"),
        ("GE(T api.x.com/a", "is not a method"),
        ("GET,* api.x.com/a", "is not a method"),
        ("GET,,HEAD api.x.com/a", "is not a method"),
        ("GET api.x.com", "has no path"),
        ("GET /a", "the host '' is not valid"),
        ("GET *.com/a", "a wildcard over a whole top-level domain"),
        ("GET api.x.com:99999/a", "port"),
        ("GET api_x.com/a", "not valid"),
        ("GET api.x.com/search?q=*", "'?'"),
        ("GET api.x.com/a#b", "'#'"),
        ("GET api.x.com/a[1]", "'['"),
        ("GET api.x.com/a\\b", "'\\\\'"),
        ("GET api.x.com/caf\u00e9", "'é'"),
        ("GET api.x.com/a/../b", "'..' segment"),
        ("GET api.x.com/a/%2e%2e/b", "'..' segment"),
        ("GET api.x.com/a//b", "empty segment"),
        ("GET api.x.com/a%zz", "malformed percent-escape"),
    ],
)
def test_a_malformed_rule_says_what_is_wrong(text, what):
    with pytest.raises(BadRule) as e:
        parse(text)
    assert what in e.value.what and e.value.fix


def test_a_policy_file_has_comments_blank_lines_and_names_the_bad_line():
    text = "# the acme agent\n\nGET api.github.com/repos/acme/*   # read\n  POST api.github.com/x\n"
    assert [repr(r) for r in parse_lines(text)] == [
        "GET api.github.com/repos/acme/*",
        "POST api.github.com/x",
    ]
    with pytest.raises(BadRule) as e:
        parse_lines(text + "\n# fine\nGET api.github.com/a/../b\n")
    assert e.value.line == 7


# --- the matcher ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,target,allowed",
    [
        ("GET", "/repos/acme/widget", True),
        ("GET", "/repos/acme/widget/issues/1", True),  # '*' spans segments
        ("GET", "/repos/acme/", True),
        ("GET", "/repos/acme/widget?page=2&q=../../other", True),  # the query is not matched
        ("GET", "/repos/ac%6De/widget", True),  # an unreserved escape is its character
        ("GET", "/repos/acme/a%2Fb", True),  # an encoded slash inside the glob stays inside
        ("GET", "/repos/acme", False),  # '/repos/acme/*' names what is under it
        ("GET", "/repos/acmecorp/widget", False),
        ("GET", "/repos/acme%2Fwidget", False),  # %2F is not the rule's '/'
        ("GET", "/REPOS/acme/widget", False),  # paths match case-sensitively
        ("get", "/repos/acme/widget", False),  # methods too (RFC 9110 9.1)
        ("POST", "/repos/acme/widget", False),
        ("DELETE", "/repos/acme/widget", False),
    ],
)
def test_the_matcher(method, target, allowed):
    why = ACME.denial(method.encode(), target.encode(), GH)
    assert (why is None) == allowed, why


HOSTILE = [
    "/repos/acme/../other",
    "/repos/acme/../../user",
    "/repos/acme/%2e%2e/other",
    "/repos/acme/%2E%2E/other",
    "/repos/acme/.%2e/other",
    "/repos/acme/%252e%252e/other",  # a server that decodes twice
    "/repos/acme/x%2F..%2F..%2Fother",  # a server that decodes %2F, then resolves
    "/repos/acme/..;/other",  # Tomcat drops ;params, then resolves
    "/repos/acme/..%3Bx/other",
    "/repos/acme/./widget",
    "/repos/acme//../other",  # nginx merges '//' first: /repos/other
    "//repos/acme/x",
    "/repos/acme/x\\..\\..\\other",  # backslash: '/' to a Windows server
    "/repos/acme/x%5C..%5C..%5Cother",
    "/repos/acme/x%00.json",
    "/repos/acme/%zz",
    "/repos/acme/x#frag",
    "*",
    "https://api.github.com/repos/acme/x",  # the relay hands the matcher origin-form only
]


@pytest.mark.parametrize("target", HOSTILE)
def test_a_hostile_path_is_denied_whatever_the_rule(target):
    everything = Rules([parse("* api.github.com/*")])
    assert ACME.denial(b"GET", target.encode(), GH) not in (None, NO_RULE)
    assert everything.denial(b"GET", target.encode(), GH) is not None


def _readings(path: str):
    """How servers read a path: as sent, decoded once, twice, thrice, with %2F and backslash
    as '/', ;params dropped; each then with its dot segments resolved and '//' merged."""
    seen = [path]
    for _ in range(3):
        seen.append(unquote(seen[-1]))
    for text in list(seen):
        seen.append(text.replace("\\", "/"))
        seen.append(re.sub(r";[^/]*", "", text))
    return [posixpath.normpath("/" + text.lstrip("/")) for text in seen]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="/.%2eEfF5cC;ab\\", max_size=24))
@example("x/%2e%2e/../../y")
def test_no_reading_of_an_allowed_path_leaves_the_glob(tail):
    """Whatever follows /repos/acme/: if the matcher lets it through, every way a server might
    read the path still lands under /repos/acme/."""
    path = "/repos/acme/" + tail
    if ACME.denial(b"GET", path.encode(), GH) is None:
        for reading in _readings(path):
            assert reading.startswith("/repos/acme"), (path, reading)


@pytest.mark.parametrize(
    "authority,allowed",
    [
        (("api.github.com", 443), True),
        (("api.github.com", 8443), False),  # a rule without a port means 443
        (("uploads.github.com", 443), False),
        (("a.corp.example", 443), True),
        (("a.b.corp.example", 443), True),
        (("corp.example", 443), False),
        (("127.0.0.1", 8443), True),
    ],
)
def test_a_rule_holds_for_its_host_and_port(authority, allowed):
    rules = Rules(map(parse, ["* api.github.com/*", "* *.corp.example/*", "* 127.0.0.1:8443/*"]))
    assert (rules.denial(b"GET", b"/x", authority) is None) == allowed


def test_a_method_override_header_must_be_allowed_too():
    rules = Rules(map(parse, ["GET,POST api.github.com/a/*"]))
    for name in (b"x-http-method-override", b"x-http-method", b"x-method-override"):
        why = rules.denial(b"GET", b"/a/b", GH, [(name, b"delete")])
        assert why == f"its {name.decode()} header asks for DELETE, and {NO_RULE}"
        assert rules.denial(b"GET", b"/a/b", GH, [(name, b"post")]) is None


@pytest.mark.parametrize("name", [b"x-original-url", b"x-rewrite-url"])
def test_a_path_rewrite_header_must_be_allowed_too(name):
    why = ACME.denial(b"GET", b"/repos/acme/x", GH, [(name, b"/repos/other?x=1")])
    assert why == f"its {name.decode()} header asks for another path, and {NO_RULE}"
    assert "'..' segment" in ACME.denial(b"GET", b"/repos/acme/x", GH, [(name, b"/repos/acme/..")])
    assert ACME.denial(b"GET", b"/repos/acme/x", GH, [(name, b"/repos/acme/y")]) is None


def test_read_only_is_get_head_and_options_on_every_host():
    rules = Rules(read_only(["api.github.com", "uploads.github.com"]))
    for method in (b"GET", b"HEAD", b"OPTIONS"):
        assert rules.denial(method, b"/anything/at/all", ("uploads.github.com", 443)) is None
    for method in (b"POST", b"PUT", b"PATCH", b"DELETE"):
        assert rules.denial(method, b"/user", GH) == NO_RULE


def test_a_rule_for_a_host_nothing_intercepts_is_found():
    rules = [parse(t) for t in ("GET api.github.com/a", "GET *.github.com/b", "GET x.org/c")]
    assert uncovered(rules, ["api.github.com"]) == ["x.org"]
    assert uncovered(rules, ["uploads.github.com:443"]) == ["api.github.com", "x.org"]


# --- the command line: errors before any login, the child never started --------------------


@pytest.mark.parametrize(
    "args,code,said",
    [
        (["--allow", "GET api.x.com"], 2, "authsome: --allow: the rule has no path. Write"),
        (["--allow", "GET api.x.com/a", "--allow", "G(T x/a"], 2, "--allow (the second): "),
        (["--read-only", "--allow", "GET api.x.com/a?b"], 2, "--allow: the path has '?'"),
        (["--policy", "{missing}"], 9, "cannot read the policy file {missing}"),
        (["--policy", "{bad}"], 9, "{bad}:3: 'GE(T' is not a method"),
        (["--policy", "{empty}"], 9, "the policy file {empty} holds no rules"),
        (["--policy", "{latin1}"], 9, "{latin1}:2: not UTF-8 text"),
    ],
)
def test_a_bad_rule_is_one_line_and_the_child_never_starts(env, tmp_path, args, code, said):
    files = {
        "missing": tmp_path / "missing.rules",
        "bad": tmp_path / "bad.rules",
        "empty": tmp_path / "empty.rules",
        "latin1": tmp_path / "latin1.rules",
    }
    files["bad"].write_text("# ok\nGET api.x.com/a\nGE(T api.x.com/b\n")
    files["empty"].write_text("# nothing yet\n\n")
    files["latin1"].write_bytes(b"GET api.x.com/a\nGET api.x.com/caf\xe9\n")
    args = [a.format(**files) for a in args]
    marker = tmp_path / "child-ran"
    out = run(["run", "--proxy", *args, "openai", "--", "touch", str(marker)], env)
    assert (out.returncode, out.stdout) == (code, ""), out.stderr
    assert out.stderr.count("\n") == 1 and said.format(**files) in out.stderr, out.stderr
    assert not marker.exists()


def test_rules_without_the_proxy_are_a_usage_error(env, tmp_path):
    marker = tmp_path / "child-ran"
    out = run(["run", "--read-only", "openai", "--", "touch", str(marker)], env)
    assert out.returncode == 2 and "add --proxy" in out.stderr.lower(), out.stderr
    assert not marker.exists()


# --- through the installed CLI, the real proxy and real curl ------------------------------


# Each argument is METHOD PATH [CURL OPTIONS]: one curl each, its body then `@@ STATUS`.
# --path-as-is: curl sends '..' and '//' as written.
CURLS = """
set -f  # no globbing of a spec's '*'
for spec in "$@"; do
  set -- $spec
  m="-X $1"; [ "$1" = HEAD ] && m="-I"  # -X HEAD would wait for a body
  url="$BASE$2"; shift 2
  curl -sS --path-as-is $m -o - -w '\\n@@ %{http_code}\\n' "$@" "$url"
done
"""


def _curls(env, raw, rule_args, *specs, names=("testsrv",)):
    """(exit status, [(status, body)] per spec, stderr) of curls through `run --proxy`."""
    script = CURLS.replace("curl ", f"{require('curl')} ")
    args = ["run", "--proxy", *rule_args, *names, "--", "sh", "-c", script, "sh", *specs]
    out = run(args, {**env, "BASE": raw.url}, timeout=90)
    answers = re.findall(r"(.*?)\n@@ (\d+)\n", out.stdout, re.DOTALL)
    return out.returncode, [(int(code), body.strip()) for body, code in answers], out.stderr


def _audit(env) -> list[dict]:
    lines = run(["log", "--json", "-n", "100"], env).stdout.splitlines()
    return [d for d in map(json.loads, lines) if d["event"] in ("proxy", "denied")]


def _no_secret_in_the_log(env, testsrv):
    text = (Path(env["AUTHSOME_HOME"]) / "audit.log").read_text()
    assert not any(s in text for s in (*testsrv.state.access, *testsrv.state.refresh))


@pytest.mark.real
def test_a_post_outside_the_allowed_gets_403_unsigned_and_never_arrives(raw_env, raw, testsrv):
    allow = ["--allow", f"GET {raw.host}/repos/acme/*"]
    code, answers, stderr = _curls(
        raw_env, raw, allow, "GET /repos/acme/widget?page=2", "POST /repos/acme/widget"
    )
    assert code == 0, stderr
    assert answers[0][0] == 200
    status, body = answers[1]
    assert status == 403 and body == (
        f"authsome proxy: denied POST {raw.host}/repos/acme/widget: {NO_RULE}"
    )
    [(line, head)] = raw.heads()  # the POST never reached the upstream
    assert line == b"GET /repos/acme/widget?page=2 HTTP/1.1"
    assert head[b"authorization"].decode().removeprefix("Bearer ") in testsrv.state.access
    assert f"the proxy denied sh's POST {raw.host}/repos/acme/widget ({NO_RULE})" in stderr
    signed, denied = _audit(raw_env)
    assert (signed["event"], signed["method"], signed["path"], signed["status"]) == (
        "proxy", "GET", "/repos/acme/widget", 200,
    )  # fmt: skip
    assert (denied["event"], denied["method"], denied["path"], denied["reason"]) == (
        "denied", "POST", "/repos/acme/widget", NO_RULE,
    )  # fmt: skip
    assert denied["host"] == raw.host and denied["argv0"] == "sh"
    assert denied["provider"] == "testsrv" and "status" not in denied
    _no_secret_in_the_log(raw_env, testsrv)


@pytest.mark.real
def test_hostile_paths_and_absolute_forms_never_leave_the_glob(raw_env, raw):
    base = raw.url
    specs = [f"GET {t}" for t in HOSTILE[:-3]]
    specs += [
        f"GET /repos/acme/x --request-target {base}/repos/other",  # absolute-form
        f"GET /repos/acme/x --request-target {base}/repos/acme/../other",
        "GET /repos/acme/x -H X-Original-URL:/repos/other",
        "GET /repos/acme/x -H X-HTTP-Method-Override:DELETE",
        "GET /repos/acme/x --request-target *",
        f"GET /repos/acme/x --request-target {base}/repos/acme/widget",  # allowed: origin-form
    ]
    allow = ["--allow", f"GET {raw.host}/repos/acme/*"]
    code, answers, stderr = _curls(raw_env, raw, allow, *specs)
    assert code == 0 and len(answers) == len(specs), stderr
    for spec, (status, body) in zip(specs[:-1], answers, strict=False):
        assert status == 403 and body.startswith("authsome proxy: denied GET"), (spec, body)
    assert answers[-1][0] == 200
    assert [line for line, _ in raw.heads()] == [b"GET /repos/acme/widget HTTP/1.1"]
    denied = [d for d in _audit(raw_env) if d["event"] == "denied"]
    assert len(denied) == len(specs) - 1


@pytest.mark.real
def test_policy_files_and_allow_add_up(raw_env, raw, tmp_path):
    policy, more = tmp_path / "agent.rules", tmp_path / "more.rules"
    policy.write_text(
        "# what the triage agent may do\n\n"
        f"GET,HEAD {raw.host}/repos/acme/*\n"
        "GET api.github.com/*  # another provider's host: not this run's business\n"
    )
    more.write_text(f"POST     {raw.host}/repos/acme/*/issues   # file issues\n")
    rules = ["--policy", str(policy), "--allow", f"DELETE {raw.host}/tmp/*", "--policy",
             str(more)]  # fmt: skip
    specs = ["GET /repos/acme/w", "HEAD /repos/acme/w", "POST /repos/acme/w/issues",
             "DELETE /tmp/x", "POST /repos/acme/w/pulls", "PUT /repos/acme/w",
             "DELETE /x"]  # fmt: skip
    code, answers, stderr = _curls(raw_env, raw, rules, *specs)
    assert code == 0, stderr
    assert [status for status, _ in answers] == [200, 200, 200, 200, 403, 403, 403]
    assert [line.split(b" ")[0] for line, _ in raw.heads()] == [
        b"GET", b"HEAD", b"POST", b"DELETE"
    ]  # fmt: skip


@pytest.mark.real
def test_read_only(raw_env, raw, testsrv):
    specs = ["GET /user", "HEAD /user", "OPTIONS /user", "POST /user", "PATCH /user",
             "DELETE /repos/acme/widget"]  # fmt: skip
    code, answers, stderr = _curls(raw_env, raw, ["--read-only"], *specs)
    assert code == 0, stderr
    assert [status for status, _ in answers] == [200, 200, 200, 403, 403, 403]
    heads = raw.heads()
    assert [line.split(b" ")[0] for line, _ in heads] == [b"GET", b"HEAD", b"OPTIONS"]
    assert all(h[b"authorization"].startswith(b"Bearer ") for _, h in heads)
    events = [(d["event"], d["method"]) for d in _audit(raw_env)]
    assert events == [("proxy", "GET"), ("proxy", "HEAD"), ("proxy", "OPTIONS"),
                      ("denied", "POST"), ("denied", "PATCH"), ("denied", "DELETE")]  # fmt: skip
    _no_secret_in_the_log(raw_env, testsrv)


@pytest.mark.real
def test_an_allow_for_a_host_no_provider_sends_to_is_refused(raw_env, raw, tmp_path):
    marker = tmp_path / "child-ran"
    args = ["run", "--proxy", "--allow", "GET api.github.com/*", "testsrv", "--", "touch"]
    out = run([*args, str(marker)], raw_env)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "--allow names api.github.com, where no named provider's credential goes" in out.stderr
    assert raw.host in out.stderr and not marker.exists()
