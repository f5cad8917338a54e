"""Which session bus the keychain trusts (#24): the bus that dbus-run-session and dbus-launch
make in sticky /tmp is ours; an address is parsed once, so what was checked is what is
reached; and when the bus is refused, doctor and the error name the reason. Against real
dbus-daemon and gnome-keyring."""

import os
import stat
import subprocess
from pathlib import Path

import pytest
from clitools import AUTHSOME_BIN, run
from realparts import KnownBus, PrivateBus, SecretService, require

API_KEY = "sk-0123456789abcdefghijklmnopqrstuv"


@pytest.fixture
def tmp_session(tmp_path):
    """gnome-keyring, unlocked, on the bus of a real `dbus-run-session` (its own config, so
    its socket is where Debian 12's puts it: /tmp/dbus-XXXXXXXX)."""
    session = subprocess.Popen(
        [require("dbus-run-session"), "--", "sh", "-c", 'echo "$DBUS_SESSION_BUS_ADDRESS"; cat'],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    address = session.stdout.readline().strip()
    try:
        service = SecretService(tmp_path / "ss", bus=KnownBus(address))
    except BaseException:
        session.stdin.close()
        session.wait(10)
        raise
    yield address
    service.stop()
    session.stdin.close()  # cat ends, and dbus-run-session stops its bus
    session.wait(10)


def _socket_of(address: str) -> str:
    keys = dict(kv.split("=", 1) for kv in address.split(":", 1)[1].split(","))
    return keys["path"]


def test_the_bus_of_dbus_run_session_in_sticky_tmp_holds_the_keychain(env, tmp_session):
    """Before: the socket's folder, /tmp, is open to all, so the bus was refused; authsome
    fell back to the file, and doctor said "no Secret Service" next to a running keyring."""
    folder = os.path.dirname(_socket_of(tmp_session))
    assert folder == "/tmp" and os.stat(folder).st_mode & stat.S_ISVTX
    e = {**env, "DBUS_SESSION_BUS_ADDRESS": tmp_session}
    doctor = run(["doctor"], e)
    assert "secrets:   Secret Service present" in doctor.stdout, doctor.stdout
    assert "keychain:  Secret Service usable" in doctor.stdout
    assert "store:     keychain, the Secret Service keychain" in doctor.stdout
    login = run(["login", "openai"], e, input=API_KEY + "\n")
    assert login.returncode == 0, login.stderr
    assert "Stored in the Secret Service keychain" in login.stderr
    found = subprocess.run(
        [require("secret-tool"), "lookup", "application", "authsome", "provider", "openai"],
        env={"PATH": os.environ["PATH"], "DBUS_SESSION_BUS_ADDRESS": tmp_session},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert API_KEY in found.stdout, found.stderr
    assert run(["token", "openai"], e).stdout == API_KEY + "\n"


def test_a_sticky_folder_is_trusted_only_when_ours_or_roots(env, fresh_secret_service):
    """Before: any folder open to others was refused, sticky or not."""
    from realparts import OTHER_UID, as_other_user

    from authsome.storage.keychain import probe

    folder = fresh_secret_service.bus.root
    e = {**env, **fresh_secret_service.env()}
    folder.chmod(0o1777)
    try:
        assert probe(e).usable, probe(e).detail
        as_other_user([])  # skip (or fail under CI=true) without a second uid
        os.chown(folder, OTHER_UID, OTHER_UID)  # whose owner may remove our socket
        result = probe(e)
        assert not result.usable and f"{folder} belongs to uid {OTHER_UID}" in result.detail
    finally:
        os.chown(folder, os.getuid(), os.getgid())
        folder.chmod(0o700)


def test_a_link_to_our_socket_that_another_user_owns_is_refused(env, secret_service, tmp_path):
    """In sticky /tmp, whoever owns a link can re-point it at their own socket. Before: the
    link was followed, and only the socket it pointed to at the time was checked."""
    from realparts import OTHER_UID, as_other_user

    from authsome.storage.keychain import probe

    as_other_user([])
    sticky = tmp_path / "sticky"
    sticky.mkdir(mode=0o1777)
    sticky.chmod(0o1777)
    link = sticky / "bus"
    link.symlink_to(secret_service.bus.socket)
    e = {**env, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={link}"}
    assert probe(e).usable, probe(e).detail
    os.lchown(link, OTHER_UID, OTHER_UID)
    result = probe(e)
    assert not result.usable and f"{link} is a link of uid {OTHER_UID}" in result.detail


def test_an_escaped_abstract_in_a_path_is_not_followed(env, tmp_path):
    """Before: "%2Cabstract%3D" in a path passed the path check (nothing there), then jeepney
    read the decoded address again and connected to the abstract socket instead."""
    import secrets

    name = f"authsome-test-{secrets.token_hex(8)}"
    bus = PrivateBus(tmp_path / "bus", abstract=name)
    service = SecretService(tmp_path / "ss", bus=bus)
    try:
        missing = tmp_path / "nothing"
        e = {
            **env,
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={missing}%2Cabstract%3D{name}",
            "AUTHSOME_BACKEND": "keychain",
        }
        out = run(["login", "openai"], e, input=API_KEY + "\n")
        assert out.returncode == 4, out.stderr
        [line] = out.stderr.splitlines()
        assert f"{missing},abstract={name} does not exist" in line
        assert not list(service.collection().search_items({"application": "authsome"}))
    finally:
        service.stop()
        bus.stop()


def test_a_socket_path_with_an_escaped_comma_is_reached(env, secret_service, tmp_path):
    """Before: the decoded path went back into an address, where its comma split it."""
    link = tmp_path / "a,b"
    link.symlink_to(secret_service.bus.socket)
    escaped = str(link).replace(",", "%2C")
    e = {**env, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={escaped}", "AUTHSOME_BACKEND": "keychain"}
    out = run(["login", "openai"], e, input=API_KEY + "\n")
    assert out.returncode == 0 and "Stored in the Secret Service keychain" in out.stderr, out.stderr
    assert run(["token", "openai"], e).stdout == API_KEY + "\n"


def test_a_refused_bus_is_named_as_the_cause_not_a_missing_keyring(env, fresh_secret_service):
    """Before: doctor said "no Secret Service" while gnome-keyring ran, and the forced
    keychain's error said to start a keyring."""
    folder = fresh_secret_service.bus.root
    folder.chmod(0o777)  # not sticky: anyone could put their own socket in its place
    try:
        e = {**env, **fresh_secret_service.env()}
        doctor = run(["doctor"], e)
        assert doctor.returncode == 11
        assert "no Secret Service" not in doctor.stdout
        assert "d-bus:     session bus found, not trusted" in doctor.stdout
        assert f"{folder} is open to other users (mode 0777)" in doctor.stdout
        out = run(["login", "openai"], {**e, "AUTHSOME_BACKEND": "keychain"}, input=API_KEY + "\n")
        assert out.returncode == 4
        [line] = out.stderr.splitlines()
        assert f"{folder} is open to other users (mode 0777)" in line
        assert "Check DBUS_SESSION_BUS_ADDRESS" in line and "start a keyring" not in line
    finally:
        folder.chmod(0o700)


def test_no_bus_is_named_as_the_cause(env, tmp_path):
    gone = tmp_path / "gone"
    e = {**env, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={gone}"}
    doctor = run(["doctor"], e)
    assert "no Secret Service" not in doctor.stdout
    assert f"cannot be reached: {gone} does not exist" in doctor.stdout
    out = run(["token", "openai"], {**e, "AUTHSOME_BACKEND": "keychain"})
    assert out.returncode == 4 and "dbus-run-session" in out.stderr, out.stderr


def test_the_readmes_headless_keychain_recipe_works_as_written(env, tmp_path):
    """docs/security.md, "A keychain on a headless machine": its lines, run in the bus they
    start, with the password typed on stdin, give a doctor that names the keychain and a login
    stored in it.
    """
    page = (Path(__file__).resolve().parents[1] / "docs" / "security.md").read_text()
    section = page.split("**A keychain on a headless machine.**", 1)[1]
    lines = section.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert lines[0].startswith("dbus-run-session -- bash")
    # The first line starts the shell the rest runs in; `read -s` takes the password from stdin.
    rest = "\n".join(line.split("  #")[0] for line in lines[1:])
    script = rest + f"\nprintf '%s\\n' {API_KEY} | authsome login openai\nauthsome token openai\n"
    run_dir = tmp_path / "xdg"
    run_dir.mkdir(mode=0o700)
    e = {
        **env,
        "XDG_RUNTIME_DIR": str(run_dir),
        "PATH": f"{Path(AUTHSOME_BIN).parent}:/usr/bin:/bin",
    }
    e.pop("DBUS_SESSION_BUS_ADDRESS", None)
    out = subprocess.run(
        [require("dbus-run-session"), "--", "bash", "-c", script],
        input="a keyring password\n",
        env=e,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "secrets:   Secret Service present" in out.stdout, out.stdout
    assert "store:     keychain, the Secret Service keychain" in out.stdout
    assert "Stored in the Secret Service keychain" in out.stderr
    assert out.stdout.endswith(API_KEY + "\n")
