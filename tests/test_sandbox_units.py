"""The sandbox's pure parts, by table: the seccomp program (run by a small classic-BPF
interpreter), bwrap's arguments, what is hidden, the child's environment, and the checks."""

import errno
import struct

import pytest

from authsome.sandbox import bwrap, checks, hidden, seccomp

X86_64, I386 = 0xC000003E, 0x40000003
AARCH64, ARM = 0xC00000B7, 0x40000028
ALLOW, DENY, KILL = "allow", "EPERM", "kill"


def _execute(program, nr: int, arch: int, arg1: int = 0) -> str:
    """Run a classic BPF seccomp program on one call, as the kernel would."""
    data = struct.pack("<iIQ6Q", nr, arch, 0, 0, arg1, 0, 0, 0, 0)
    acc, pc = 0, 0
    while True:
        op, jt, jf, k = program[pc]
        if op == seccomp.LD_ABS:
            acc = struct.unpack_from("<I", data, k)[0]
        elif op in (seccomp.JEQ, seccomp.JGE):
            hit = acc == k if op == seccomp.JEQ else acc >= k
            pc += jt if hit else jf
        elif op == seccomp.RET:
            if k == seccomp.ALLOW:
                return ALLOW
            if k == seccomp.KILL_PROCESS:
                return KILL
            assert k == seccomp.ERRNO | errno.EPERM
            return DENY
        else:
            raise AssertionError(f"unknown opcode {op:#x}")
        pc += 1


@pytest.mark.parametrize(
    ("machine", "nr", "arch", "arg1", "verdict"),
    [
        ("x86_64", 250, X86_64, 0, DENY),  # keyctl
        ("x86_64", 248, X86_64, 0, DENY),  # add_key
        ("x86_64", 249, X86_64, 0, DENY),  # request_key
        ("x86_64", 0, X86_64, 0, ALLOW),  # read
        ("x86_64", 16, X86_64, 0x5412, DENY),  # ioctl TIOCSTI
        ("x86_64", 16, X86_64, 0x541C, DENY),  # ioctl TIOCLINUX
        ("x86_64", 16, X86_64, 0x5401, ALLOW),  # ioctl TCGETS
        ("x86_64", 16, X86_64, (1 << 32) | 0x5412, DENY),  # the kernel reads 32 bits
        ("x86_64", 0x40000000 | 250, X86_64, 0, KILL),  # x32: not checked, so killed
        ("x86_64", 288, I386, 0, DENY),  # keyctl through int 0x80
        ("x86_64", 250, I386, 0, ALLOW),  # i386's 250 is another call
        ("x86_64", 54, I386, 0x5412, DENY),
        ("x86_64", 219, AARCH64, 0, KILL),  # an ABI this machine has not
        ("aarch64", 219, AARCH64, 0, DENY),
        ("aarch64", 29, AARCH64, 0x5412, DENY),
        ("aarch64", 311, ARM, 0, DENY),
        ("aarch64", 63, AARCH64, 0, ALLOW),
        ("riscv64", 217, 0xC00000F3, 0, DENY),
    ],
)
def test_the_filter_refuses_the_keyring_and_typing_into_the_terminal(
    machine, nr, arch, arg1, verdict
):
    assert _execute(seccomp.program(machine), nr, arch, arg1) == verdict


def test_the_compiled_filter_is_struct_sock_filter():
    program = seccomp.program("x86_64")
    raw = seccomp.compiled("x86_64")
    assert len(raw) == 8 * len(program)
    assert struct.unpack_from("=HBBI", raw, 8) == program[1]


def test_bwrap_arguments_hide_folders_and_files_and_keep_the_bundle():
    args = bwrap.arguments([("/h/.authsome", True), ("/run/bus", False)], ["/t/ca.pem"], "/w", 7)
    assert args[: len(bwrap.BASE)] == list(bwrap.BASE)
    assert args[len(bwrap.BASE) :] == [
        "--perms", "0700", "--tmpfs", "/h/.authsome",
        "--ro-bind", "/dev/null", "/run/bus",
        "--ro-bind", "/t/ca.pem", "/t/ca.pem",
        "--seccomp", "7", "--chdir", "/w",
    ]  # fmt: skip
    assert {"--unshare-all", "--die-with-parent", "--as-pid-1"} <= set(bwrap.BASE)


BASE_ENV = {"HOME": "/home/u", "USER": "u"}


@pytest.mark.parametrize(
    ("environ", "present", "absent"),
    [
        ({}, ["/home/u/.authsome", "/run/user/1000", "/tmp/dbus-*", "/home/u/.vault-token",
              "/home/u/.local/share/keyrings", "/tmp/tmux-1000", "/run/docker.sock"],
         ["/ssh"]),
        ({"XDG_RUNTIME_DIR": "/xdg", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/b/bus,guid=1"},
         ["/xdg", "/b/bus"], []),
        ({"DBUS_SESSION_BUS_ADDRESS": "unix:abstract=/tmp/x"}, [], ["/tmp/x"]),
        ({"SSH_AUTH_SOCK": "/ssh"}, ["/ssh"], []),
        ({"XDG_DATA_HOME": "/d", "VAULT_SECRET_ID_FILE": "/s", "AUTHSOME_PASSPHRASE_FILE": "/p"},
         ["/d/keyrings", "/d/kwalletd", "/s", "/p"], ["/home/u/.local/share/keyrings"]),
        ({"TMUX": "/tmp/t/default,123,0", "TMUX_TMPDIR": "/tt"}, ["/tmp/t/default",
         "/tt/tmux-1000"], ["/tmp/tmux-1000"]),
        ({"DOCKER_HOST": "unix:///d.sock"}, ["/d.sock"], []),
        ({"DOCKER_HOST": "tcp://h:2375"}, [], ["tcp://h:2375", "h:2375"]),
    ],
)  # fmt: skip
def test_what_opens_credentials_is_hidden(environ, present, absent):
    paths = hidden.openers({**BASE_ENV, **environ}, 1000, "/home/u/.authsome", "/run/user/1000/a")
    assert set(present) <= set(paths)
    assert not set(absent) & set(paths)


def test_the_ssh_agent_is_kept_when_asked():
    environ = {**BASE_ENV, "SSH_AUTH_SOCK": "/ssh", "DBUS_SESSION_BUS_ADDRESS": "x"}
    assert "/ssh" not in hidden.openers(environ, 1, "/h", "/s", ssh_agent=True)
    assert hidden.environ_for(environ, ssh_agent=True) == {**BASE_ENV, "SSH_AUTH_SOCK": "/ssh"}
    assert hidden.environ_for(environ) == BASE_ENV


def test_the_child_environment_loses_what_addresses_hidden_things():
    environ = {"PATH": "/bin", "AUTHSOME_HOME": "/h", "VAULT_ADDR": "a", "BAO_ADDR": "b",
               "DBUS_SESSION_BUS_ADDRESS": "x", "SSH_AUTH_SOCK": "/s",
               "MY_VAULT_X": "kept"}  # fmt: skip
    assert hidden.environ_for(environ) == {"PATH": "/bin", "MY_VAULT_X": "kept"}


def test_existing_paths_resolved_deduplicated_and_globbed(tmp_path):
    (tmp_path / "home" / "inner").mkdir(parents=True)
    (tmp_path / "home" / "inner" / "f").write_text("")
    (tmp_path / "dbus-abc").mkdir()
    (tmp_path / "token").write_text("")
    (tmp_path / "link").symlink_to(tmp_path / "token")
    paths = [str(tmp_path / p) for p in ("home", "home/inner/f", "dbus-*", "link", "missing")]
    assert hidden.existing([*paths, "/", ""]) == sorted(
        [(str(tmp_path / "dbus-abc"), True), (str(tmp_path / "home"), True),
         (str(tmp_path / "token"), False)]
    )  # fmt: skip


def test_a_current_folder_inside_a_hidden_one_is_found(tmp_path):
    mounts = [(str(tmp_path / "a"), True), (str(tmp_path / "b"), False)]
    assert hidden.hides(str(tmp_path / "a" / "x"), mounts) == str(tmp_path / "a")
    assert hidden.hides(str(tmp_path / "ab"), mounts) is None
    assert hidden.hides(str(tmp_path), mounts) is None


def test_elsewhere_than_linux_the_sandbox_is_refused_in_one_line():
    what, fix = checks.unavailable({"PATH": "/usr/bin"}, platform="darwin")
    assert what == "--sandbox runs on Linux only (bubblewrap's namespaces)"
    assert fix.startswith("run without --sandbox")
    what, _ = checks.unavailable({"PATH": "/usr/bin"}, machine="s390x")
    assert what == "--sandbox does not know the system calls of s390x"


def test_a_missing_bwrap_is_named_with_its_package(tmp_path):
    assert checks.unavailable({"PATH": str(tmp_path)}, machine="x86_64") == (
        "bubblewrap (bwrap) is not installed",
        checks.INSTALL,
    )


@pytest.mark.parametrize(
    ("files", "uid", "found"),
    [
        ({"kernel/unprivileged_userns_clone": "0"}, 1000, "kernel.unprivileged_userns_clone=1"),
        ({"kernel/unprivileged_userns_clone": "0"}, 0, None),  # root needs none
        ({"kernel/apparmor_restrict_unprivileged_userns": "1"}, 1000, "apparmor"),
        ({"user/max_user_namespaces": "0"}, 0, "user.max_user_namespaces=15000"),
        ({"user/max_user_namespaces": "63000", "kernel/unprivileged_userns_clone": "1"}, 1000,
         None),
    ],
)  # fmt: skip
def test_the_sysctl_that_stops_bwrap_is_named_with_its_fix(tmp_path, files, uid, found):
    for name, value in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(value + "\n")
    problem = checks.userns_problem(str(tmp_path), uid=uid)
    assert (problem and found in problem[1]) if found else problem is None


@pytest.mark.parametrize(
    ("address", "local"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
     ("0.0.0.0", True), ("::", True), ("169.254.169.254", True), ("fe80::1%eth0", True),  # noqa: S104
     ("10.0.0.1", False), ("140.82.112.6", False), ("2606:4700::1111", False)],
)  # fmt: skip
def test_the_sandbox_proxy_tunnels_nothing_to_this_machine(address, local):
    from authsome.proxy.local import _local

    assert _local(address) is local
