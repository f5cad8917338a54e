"""The entry point: the hot commands' fast path, else click; the one place errors become exit
codes."""

from __future__ import annotations

import gc
import os
import sys

from authsome import errors
from authsome.errors import ExitCode

# The one place an error class gets its exit code. Nothing else calls sys.exit.
EXIT_CODES: dict[type[errors.AuthsomeError], int] = {
    errors.UsageError: ExitCode.USAGE,
    errors.NotLoggedIn: ExitCode.NOT_LOGGED_IN,
    errors.StoreUnavailable: ExitCode.STORE_UNAVAILABLE,
    errors.BadPassphrase: ExitCode.BAD_PASSPHRASE,
    errors.CorruptData: ExitCode.CORRUPT_DATA,
    errors.AuthFailed: ExitCode.AUTH_FAILED,
    errors.NetworkError: ExitCode.NETWORK,
    errors.ConfigError: ExitCode.CONFIG,
    errors.AlreadyLoggedIn: ExitCode.ALREADY_LOGGED_IN,
    errors.ChecksFailed: ExitCode.CHECKS_FAILED,
    errors.FilesystemError: ExitCode.FILESYSTEM,
    errors.StoreDenied: ExitCode.STORE_DENIED,
    errors.StoreConflict: ExitCode.STORE_CONFLICT,
    errors.InputError: ExitCode.BAD_INPUT,
    errors.SandboxUnavailable: ExitCode.SANDBOX_UNAVAILABLE,
    errors.ProxyStopped: ExitCode.PROXY_STOPPED,
    errors.CommandNotFound: ExitCode.COMMAND_NOT_FOUND,
    errors.Cancelled: ExitCode.CANCELLED,
}


def exit_code_for(error: errors.AuthsomeError) -> int:
    """The code of the error's class, or of the nearest class it refines (a module's own
    error, such as the router's Ambiguous, is one of the classes here)."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return ExitCode.INTERNAL


def claim_process() -> None:
    """Say that authsome is this process's program (a console script), not a library in it."""
    from authsome import util

    util.OWN_PROCESS = True


def _usage_line(e, args: list[str]) -> str:
    cmd = e.ctx.command_path if e.ctx else "authsome"
    if e.format_message().startswith("Got unexpected extra argument"):
        # The stray argument may be a secret pasted in the wrong place: never echo it.
        return f"authsome: unexpected extra argument. See: {cmd} --help"
    return f"authsome: {_shown(e.format_message().rstrip('.'), args)}. See: {cmd} --help"


def _shown(message: str, args: list[str]) -> str:
    """`message` made safe to print: no argument that looks like a pasted secret, no control
    characters (messages carry text from servers and files)."""
    from authsome.util.secretlike import hide
    from authsome.util.termtext import printable

    return printable(hide(message, args))


def _dispatch(args: list[str]):
    code = _answer(args)
    # `env` prints what it can and returns the first error, already said, for the status.
    return exit_code_for(code) if isinstance(code, errors.AuthsomeError) else code


def _answer(args: list[str]):
    if "_AUTHSOME_COMPLETE" in os.environ:
        from authsome.cli import tab as completion

        out = completion.answer(os.environ)
        if out is not None:
            print(out)
            return ExitCode.OK
    else:
        from authsome.cli import fastpath

        code = fastpath.run(args)
        if code is not None:
            return code
    gc.enable()  # click's commands may run for hours (run --proxy, log --follow, serving)
    from authsome.cli.root import cli

    return cli.main(args=args, prog_name="authsome", standalone_mode=False)


def _click_error(e: Exception, args: list[str]) -> int | None:
    """The exit code for a click exception, printing its line; None if `e` is not one."""
    click = sys.modules.get("click")
    if click is None:
        return None
    if isinstance(e, click.UsageError) and type(e).__name__ == "NoArgsIsHelpError":
        # A bare `authsome`: the usage screen, as click's own groups show it, on stderr.
        print(e.format_message(), file=sys.stderr)
        return ExitCode.USAGE
    if isinstance(e, click.UsageError):
        print(_usage_line(e, args), file=sys.stderr)
        return ExitCode.USAGE
    if isinstance(e, click.ClickException):
        print(f"authsome: {_shown(e.format_message(), args)}", file=sys.stderr)
        return e.exit_code
    if isinstance(e, click.Abort):
        print("\nauthsome: cancelled.", file=sys.stderr)
        return ExitCode.CANCELLED
    return None


def main(argv: list[str] | None = None) -> None:
    """Run authsome and turn every outcome into one line and an exit code."""
    from authsome.util.nodump import disable_core_dumps

    disable_core_dumps()  # before any secret is read

    args = sys.argv[1:] if argv is None else argv
    if argv is None:  # a process of its own (tests call main with argv, and go on)
        claim_process()
        # token, env, list and Tab end within moments: the cycle collections that their
        # imports would trigger (typing's and jeepney's objects) free nothing worth freeing.
        gc.disable()
    debug = "--debug" in args or os.environ.get("AUTHSOME_DEBUG") == "1"
    try:
        code = _dispatch(args)
    except KeyboardInterrupt:
        print("\nauthsome: cancelled.", file=sys.stderr)
        code = ExitCode.CANCELLED
    except errors.AuthsomeError as e:
        code = _known(e, args, debug)
    except BrokenPipeError:
        # The reader went away (`authsome list | head`); exit quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = ExitCode.INTERNAL
    except OSError as e:
        code = _os_error(e, debug)
    except Exception as e:  # noqa: BLE001 - the last line of defence
        code = _click_error(e, args)
        if code is None:
            code = _internal(e, debug)
    if argv is None:  # the process ends here (tests call main with argv, and go on)
        # Teardown would run full cycle collections over every object left (jeepney's and
        # typing's too): ~6 ms of `token` from the keychain. Nothing authsome leaves in a
        # cycle needs finalizing (files are closed by `with`), so they are skipped.
        gc.freeze()
    sys.exit(int(code) if isinstance(code, int) else ExitCode.OK)


def _known(e: errors.AuthsomeError, args: list[str], debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exc()
    print(f"authsome: {_shown(str(e), args)}", file=sys.stderr)
    return exit_code_for(e)


def _os_error(e: OSError, debug: bool) -> int:
    """A full disk, a read-only home, a file where a folder belongs: the environment, not a
    bug, so it gets its own line and exit code rather than "internal error"."""
    from authsome.util.fsutil import filesystem_error

    error = filesystem_error(e)
    if error is None or debug:
        return _internal(e, debug)
    print(f"authsome: {error}", file=sys.stderr)
    return exit_code_for(error)


def _internal(e: Exception, debug: bool) -> int:
    if debug:
        raise e
    print(
        f"authsome: internal error ({type(e).__name__}). Run again with --debug and report it",
        file=sys.stderr,
    )
    return ExitCode.INTERNAL
