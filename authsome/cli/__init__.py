"""The command line: a lazy click group, and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import os
import sys

import click

from authsome import __version__, errors

# name -> "module:function"; modules are imported only when their command runs.
COMMANDS = {
    "completion": "authsome.cli.shellcmds:completion",
    "doctor": "authsome.cli.doctor:doctor",
    "env": "authsome.cli.env:env",
    "hook": "authsome.cli.shellcmds:hook",
    "inspect": "authsome.cli.providers:inspect",
    "list": "authsome.cli.listing:list_",
    "lock": "authsome.cli.session:lock",
    "login": "authsome.cli.login:login",
    "logout": "authsome.cli.login:logout",
    "providers": "authsome.cli.providers:providers",
    "register": "authsome.cli.providers:register",
    "run": "authsome.cli.shellcmds:run",
    "token": "authsome.cli.token:token",
    "unlock": "authsome.cli.session:unlock",
}

# The documented exit codes (README, "Exit codes"). Nothing else calls sys.exit.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_CANCELLED = 130
EXIT_CODES: dict[type[errors.AuthsomeError], int] = {
    errors.UsageError: 2,
    errors.NotLoggedIn: 3,
    errors.StoreUnavailable: 4,
    errors.BadPassphrase: 5,
    errors.CorruptData: 6,
    errors.AuthFailed: 7,
    errors.NetworkError: 8,
    errors.ConfigError: 9,
    errors.AlreadyLoggedIn: 10,
    errors.ChecksFailed: 11,
    errors.CommandNotFound: 127,
    errors.Cancelled: EXIT_CANCELLED,
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "-V", "--version", prog_name="authsome", message="%(prog)s %(version)s"
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Log in once; get fresh credentials in every shell, script and agent."""
    if ctx.obj is None:
        from authsome.context import Context

        ctx.obj = Context()


def exit_code_for(error: errors.AuthsomeError) -> int:
    return EXIT_CODES.get(type(error), EXIT_INTERNAL)


def _usage_line(e: click.UsageError) -> str:
    cmd = e.ctx.command_path if e.ctx else "authsome"
    if e.format_message().startswith("Got unexpected extra argument"):
        # The stray argument may be a secret pasted in the wrong place: never echo it.
        return f"authsome: unexpected extra argument. See: {cmd} --help"
    return f"authsome: {e.format_message().rstrip('.')}. See: {cmd} --help"


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every outcome into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("AUTHSOME_DEBUG") == "1"
    try:
        code = cli.main(args=args, prog_name="authsome", standalone_mode=False)
    except click.UsageError as e:
        print(_usage_line(e), file=sys.stderr)
        code = 2
    except click.ClickException as e:
        print(f"authsome: {e.format_message()}", file=sys.stderr)
        code = e.exit_code
    except (click.Abort, KeyboardInterrupt):
        print("\nauthsome: cancelled.", file=sys.stderr)
        code = EXIT_CANCELLED
    except errors.AuthsomeError as e:
        if debug:
            import traceback

            traceback.print_exc()
        print(f"authsome: {e}", file=sys.stderr)
        code = exit_code_for(e)
    except BrokenPipeError:
        # The reader went away (`authsome list | head`); exit quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_INTERNAL
    except Exception as e:  # noqa: BLE001 - the last line of defence
        if debug:
            raise
        print(
            f"authsome: internal error ({type(e).__name__}). Run again with --debug and report it",
            file=sys.stderr,
        )
        code = EXIT_INTERNAL
    sys.exit(code if isinstance(code, int) else 0)
