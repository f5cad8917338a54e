"""The browser bridge, driven in real headless Chromium through selenium."""

import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from clitools import AUTHSOME_BIN, run
from conftest import TEST_PASSPHRASE
from otherpython import other_users_python
from ports import reserve
from ptyrun import PtyProcess
from realparts import VirtualDisplay, as_other_user, require

from authsome.oauth import bridge

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
KEY = "sk-bridge-0123456789abcdefghijklmn"


@pytest.fixture(scope="session")
def chromium():
    """Headless Chromium from Debian's chromium and chromium-driver packages."""
    binary, driver_path = require("chromium"), require("chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=900,700",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def bridge_env(env, tmp_path):
    """A desktop session as authsome sees it: a display, and a browser that records the URL."""
    url_file = tmp_path / "url"
    opener = tmp_path / "open-browser"
    opener.write_text(f"#!/bin/sh\nprintf '%s' \"$1\" > {url_file}\n")
    opener.chmod(0o755)
    return {
        **env,
        "DISPLAY": ":99",
        "BROWSER": f"{opener} %s",
        "AUTHSOME_BACKEND": "file",
        "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE,
    }, url_file


def _wait_for_text(driver, text: str, timeout: float = 15) -> str:
    """The page's text once it shows `text` (after a click, the old page may still be there)."""
    from selenium.common.exceptions import WebDriverException

    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        try:
            # Mid-navigation there may be no document yet: read it in the page, or retry.
            body = driver.execute_script("return document.body ? document.body.innerText : ''")
        except WebDriverException:
            body = ""
        body = body or ""
        if text in body:
            return body
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never shown; the page says {body!r}")


def _start(bridge_env, *args):
    env, url_file = bridge_env
    proc = PtyProcess([AUTHSOME_BIN, "login", "openai", *args], env)
    proc.expect(b"Opened a browser to enter your OpenAI API key (waiting; Ctrl-C to cancel)")
    deadline = time.monotonic() + 10
    while not url_file.exists() or not url_file.read_text():
        assert time.monotonic() < deadline, "the browser was never asked to open the page"
        time.sleep(0.05)
    url = url_file.read_text()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/[A-Za-z0-9_-]{40,}", url), url
    assert url.encode() in proc.screen  # printed too, in case no browser opened
    return proc, url


def test_key_entered_in_chromium_is_stored(bridge_env, chromium):
    proc, url = _start(bridge_env)
    chromium.get(url)
    assert "OpenAI API key" in chromium.title
    assert chromium.find_element("link text", "https://platform.openai.com/api-keys")
    field = chromium.find_element("id", "secret")
    assert field.get_attribute("type") == "password"
    field.send_keys(KEY)
    ARTIFACTS.mkdir(exist_ok=True)
    chromium.save_screenshot(str(ARTIFACTS / "bridge-openai.png"))
    chromium.find_element("id", "submit").click()
    _wait_for_text(chromium, "You can close this tab")
    assert proc.wait(30) == 0
    assert KEY.encode() not in proc.screen
    # The person sees enough of it to tell it is their key, before it is stored.
    assert "Received a key ending in …klmn.".encode() in proc.screen
    assert proc.screen.index("…klmn".encode()) < proc.screen.index(b"Successfully logged in")
    assert run(["token", "openai"], bridge_env[0]).stdout.strip() == KEY


@pytest.fixture
def desktop(env, tmp_path):
    """A real X display (Xvfb), and $BROWSER starting a real Chromium window on it."""
    display = VirtualDisplay()
    port = reserve()  # Chromium listens on it with SO_REUSEADDR (tests/ports.py)
    flags = [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=900,700",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--remote-debugging-port={port}",
    ]
    pidfile = tmp_path / "chromium.pid"
    opener = tmp_path / "open-browser"
    command = shlex.join([require("chromium"), *flags])
    opener.write_text(f'#!/bin/sh\necho $$ > {pidfile}\nexec {command} "$1" >/dev/null 2>&1\n')
    opener.chmod(0o755)
    environ = {k: v for k, v in env.items() if k != "WAYLAND_DISPLAY"}
    environ.update(display.env())
    # A trailing "&" makes webbrowser start it in a session of its own, as it does xdg-open, so
    # the window outlives authsome (here the session leader on its pty).
    environ.update(
        BROWSER=f"{opener} %s &", AUTHSOME_BACKEND="file", AUTHSOME_PASSPHRASE=TEST_PASSPHRASE
    )
    yield environ, port
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
    display.stop()


def _attach(port: int, url: str):
    """selenium attached to the Chromium that authsome started, on the tab showing `url`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/json/version", timeout=1)
            break
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "Chromium never opened its debugging port"
            time.sleep(0.1)
    options = webdriver.ChromeOptions()
    options.debugger_address = f"127.0.0.1:{port}"
    driver = webdriver.Chrome(service=Service(require("chromedriver")), options=options)
    while True:
        for handle in driver.window_handles:
            driver.switch_to.window(handle)
            if driver.current_url == url:
                return driver
        if time.monotonic() > deadline:
            driver.quit()
            raise AssertionError("no Chromium tab shows the bridge page")
        time.sleep(0.1)


def test_on_a_real_display_authsome_opens_chromium_itself(desktop):
    environ, port = desktop
    proc = PtyProcess([AUTHSOME_BIN, "login", "openai"], environ)
    proc.expect(b"Opened a browser to enter your OpenAI API key (waiting; Ctrl-C to cancel)")
    url = re.search(rb"http://127\.0\.0\.1:\d+/[A-Za-z0-9_-]{40,}", proc.screen).group().decode()
    driver = _attach(port, url)
    try:
        assert "OpenAI API key" in driver.title
        driver.find_element("id", "secret").send_keys(KEY)
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "bridge-openai-xvfb.png"))
        driver.find_element("id", "submit").click()
        _wait_for_text(driver, "You can close this tab")
    finally:
        driver.quit()
    assert proc.wait(30) == 0
    assert KEY.encode() not in proc.screen
    assert run(["token", "openai"], environ).stdout.strip() == KEY


def test_pattern_is_checked_in_the_page_and_on_the_server(bridge_env, chromium):
    proc, url = _start(bridge_env)
    chromium.get(url)
    chromium.find_element("id", "secret").send_keys("not-a-key")
    chromium.find_element("id", "submit").click()
    # The page refused to send it, and said why.
    error = chromium.find_element("id", "error").text
    assert error == "That does not look like a valid OpenAI API key."
    time.sleep(0.5)
    assert proc.alive()  # nothing reached authsome: it is still waiting
    csrf = chromium.find_element("name", "csrf").get_attribute("value")
    port = url.split(":")[2].split("/")[0]
    answer = httpx.post(
        f"{url}/submit",
        data={"csrf": csrf, "secret": "not-a-key"},
        headers={"Origin": f"http://127.0.0.1:{port}"},
    )
    assert answer.status_code == 400 and "does not look like a valid OpenAI API key" in answer.text
    chromium.find_element("id", "cancel").click()
    assert proc.wait(30) == 130


def test_cancel_stores_nothing_and_exits_130(bridge_env, chromium):
    proc, url = _start(bridge_env)
    chromium.get(url)
    chromium.find_element("id", "cancel").click()
    _wait_for_text(chromium, "Nothing was stored")
    assert proc.wait(30) == 130
    assert json.loads(run(["list", "--json"], bridge_env[0]).stdout) == []


def test_forged_requests_are_refused(bridge_env, chromium):
    proc, url = _start(bridge_env)
    port = url.split(":")[2].split("/")[0]
    # DNS rebinding: the right address, a foreign Host.
    assert httpx.get(url, headers={"Host": f"evil.example:{port}"}).status_code == 403
    chromium.get(url)
    csrf = chromium.find_element("name", "csrf").get_attribute("value")
    # A POST without the page's CSRF token, or from a foreign origin.
    assert httpx.post(f"{url}/submit", data={"csrf": "guess", "secret": KEY}).status_code == 403
    assert (
        httpx.post(
            f"{url}/submit",
            data={"csrf": csrf, "secret": KEY},
            headers={"Origin": "http://evil.example"},
        ).status_code
        == 403
    )
    assert (
        httpx.post(
            f"http://127.0.0.1:{port}/wrong-token/submit", data={"csrf": csrf, "secret": KEY}
        ).status_code
        == 404
    )
    # None of that stored anything; the person can still finish in the page.
    chromium.find_element("id", "secret").send_keys(KEY)
    chromium.find_element("id", "submit").click()
    assert proc.wait(30) == 0


def test_a_second_get_ends_the_login(bridge_env):
    proc, url = _start(bridge_env)
    first = httpx.get(url)
    assert first.status_code == 200
    # Whoever asks again (a reload, or someone who read the URL first): the page is not served
    # twice, and the login ends rather than wait for a form that someone else may hold.
    assert httpx.get(url).status_code == 410
    assert proc.wait(30) == 7
    assert b"was opened twice" in proc.screen and b"Run: authsome login openai again" in proc.screen
    csrf = re.search(r'name="csrf" value="([^"]+)"', first.text).group(1)
    port = url.split(":")[2].split("/")[0]
    with contextlib.suppress(httpx.HTTPError):  # the server is gone: nothing can arrive now
        httpx.post(
            f"{url}/submit",
            data={"csrf": csrf, "secret": KEY},
            headers={"Origin": f"http://127.0.0.1:{port}"},
        )
    assert json.loads(run(["list", "--json"], bridge_env[0]).stdout) == []


def test_a_bad_content_length_is_refused_without_a_traceback(bridge_env):
    proc, url = _start(bridge_env)
    port = int(url.split(":")[2].split("/")[0])
    path = url.split(str(port), 1)[1]
    for length in ("abc", "-5"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(
                f"POST {path}/submit HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Length: {length}\r\nConnection: close\r\n\r\n".encode()
            )
            answer = b""
            while chunk := s.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.0 400"), answer[:80]
    time.sleep(0.3)
    assert proc.alive()
    proc.interrupt()
    assert proc.wait(30) == 130
    assert b"Traceback" not in proc.screen and b"ValueError" not in proc.screen


# A local user who read the one-time URL from the browser's argv (/proc/PID/cmdline): it loads
# the page first, takes the CSRF token, and posts its own key.
ATTACKER = r"""
import http.client, json, re, sys
from urllib.parse import urlencode, urlsplit

url, key = urlsplit(sys.argv[1]), sys.argv[2]

def ask(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request(method, path, body, headers or {})
        answer = conn.getresponse()
        return answer.status, answer.read().decode()
    except OSError as e:  # closed without an answer
        return type(e).__name__, ""
    finally:
        conn.close()

get, page = ask("GET", url.path)
csrf = re.search(r'name="csrf" value="([^"]+)"', page)
post, _ = ask(
    "POST",
    url.path + "/submit",
    urlencode({"csrf": csrf.group(1) if csrf else "unknown", "secret": key}),
    {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://{url.netloc}"},
)
print(json.dumps({"get": get, "post": post}))
"""
ATTACKER_KEY = "sk-attacker-0123456789abcdefghijkl"


def test_another_local_user_cannot_use_the_page(bridge_env):
    python = other_users_python()
    prefix = as_other_user([python, "-I", "-c", ATTACKER])
    proc, url = _start(bridge_env)
    attack = subprocess.run(
        [*prefix, url, ATTACKER_KEY], capture_output=True, text=True, timeout=60, cwd="/"
    )
    assert attack.returncode == 0, attack.stderr
    result = json.loads(attack.stdout)
    # Both requests were closed unanswered: the attacker got neither the form nor its token.
    assert not isinstance(result["get"], int) and not isinstance(result["post"], int), result
    assert proc.alive()  # and the login is still waiting for the person
    # The person's own browser still gets the page (the refused GET did not use it up).
    page = httpx.get(url)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    port = url.split(":")[2].split("/")[0]
    done = httpx.post(
        f"{url}/submit",
        data={"csrf": csrf, "secret": KEY},
        headers={"Origin": f"http://127.0.0.1:{port}"},
    )
    assert done.status_code == 200
    assert proc.wait(30) == 0
    assert run(["token", "openai"], bridge_env[0]).stdout.strip() == KEY


def test_timeout_is_a_clear_error(bridge_env):
    env, url_file = bridge_env
    proc = PtyProcess([AUTHSOME_BIN, "login", "openai"], {**env, "AUTHSOME_BRIDGE_TIMEOUT": "2"})
    assert proc.wait(30) == 7
    assert b"no OpenAI API key was entered within 2 seconds" in proc.screen


@pytest.mark.parametrize(
    "environ,no_browser,expected",
    [
        ({}, False, False),  # headless: the masked prompt
        ({"DISPLAY": ":0", "BROWSER": "true"}, False, True),
        ({"DISPLAY": ":0", "BROWSER": "true"}, True, False),  # --no-browser
        ({"DISPLAY": ":0", "BROWSER": "true", "AUTHSOME_BRIDGE": "0"}, False, False),
        ({"WAYLAND_DISPLAY": "wayland-0", "BROWSER": "w3m"}, False, False),  # a text browser
    ],
)
def test_when_the_bridge_is_used(monkeypatch, environ, no_browser, expected):
    monkeypatch.delenv("BROWSER", raising=False)
    for k, v in environ.items():
        monkeypatch.setenv(k, v)
    import webbrowser

    monkeypatch.setattr(webbrowser, "_tryorder", None)
    assert bridge.enabled(environ, no_browser) is expected


def test_a_browser_command_neither_holds_up_authsome_nor_shares_its_session(monkeypatch, tmp_path):
    from authsome.ui import browser

    record = tmp_path / "opened"
    opener = tmp_path / "slow-browser"
    # A browser that was not running yet: the command lasts as long as its window.
    opener.write_text(
        f"#!/bin/sh\necho $$ > {record}.part && mv {record}.part {record}\nsleep 60\n"
    )
    opener.chmod(0o755)
    monkeypatch.setenv("BROWSER", f"{opener} %s")
    import webbrowser

    monkeypatch.setattr(webbrowser, "_tryorder", None)
    started = time.monotonic()
    assert browser.open_url("http://127.0.0.1:1/x", {"DISPLAY": ":0"}) is True
    assert time.monotonic() - started < 30  # not the browser's 60 s
    deadline = time.monotonic() + 10
    while not record.exists():
        assert time.monotonic() < deadline, "the browser command never ran"
        time.sleep(0.05)
    pid = int(record.read_text())
    try:
        assert os.getsid(pid) != os.getsid(0)  # Ctrl-C in authsome's terminal does not reach it
    finally:
        os.kill(pid, signal.SIGTERM)


@pytest.mark.parametrize("status,opened", [(0, True), (3, False)])
def test_a_launcher_that_exits_at_once_counts_by_its_status(
    monkeypatch, tmp_path, capfd, status, opened
):
    from authsome.ui import browser

    opener = tmp_path / "launcher"
    opener.write_text(f"#!/bin/sh\necho on-stdout; echo on-stderr >&2\nexit {status}\n")
    opener.chmod(0o755)
    monkeypatch.setenv("BROWSER", f"{opener} %s")
    import webbrowser

    monkeypatch.setattr(webbrowser, "_tryorder", None)
    assert browser.open_url("http://127.0.0.1:1/x", {"DISPLAY": ":0"}) is opened
    # Nothing the browser prints reaches authsome's streams (stdout is for machine output).
    assert capfd.readouterr() == ("", "")


def test_the_owner_of_a_loopback_connection_is_found():
    from authsome.util import peeruid

    if not peeruid.can_check():
        pytest.skip("only Linux can tell who owns a connection (/proc/net/tcp)")
    python = other_users_python()
    client = "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1]))).recv(1)"
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = str(server.getsockname()[1])
        for argv, uid in (
            ([python, "-c", client, port], os.getuid()),
            (as_other_user([python, "-I", "-c", client, port]), 65534),
        ):
            proc = subprocess.Popen(argv, cwd="/")
            conn, _ = server.accept()
            with conn:
                assert peeruid.peer_uid(conn.getsockname(), conn.getpeername()) == uid
                conn.sendall(b"x")
            proc.wait(10)
    assert peeruid.peer_uid(("127.0.0.1", 1), ("127.0.0.1", 2)) is None
