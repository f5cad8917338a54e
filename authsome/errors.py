"""Every error authsome reports, and the exit codes; authsome.main maps one to the other."""


class ExitCode:
    """The documented exit codes (README, "Exit codes"). Plain ints: an enum would cost every
    command the import of enum, functools and collections."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    NOT_LOGGED_IN = 3
    STORE_UNAVAILABLE = 4
    BAD_PASSPHRASE = 5
    CORRUPT_DATA = 6
    AUTH_FAILED = 7
    NETWORK = 8
    CONFIG = 9
    ALREADY_LOGGED_IN = 10
    CHECKS_FAILED = 11
    FILESYSTEM = 12
    STORE_DENIED = 13
    STORE_CONFLICT = 14
    BAD_INPUT = 15
    SANDBOX_UNAVAILABLE = 16
    PROXY_STOPPED = 17
    COMMAND_NOT_FOUND = 127
    CANCELLED = 130


class AuthsomeError(Exception):
    """Base class: the message is one line, '<what happened>. <how to fix it>'."""

    def __init__(self, what: str, fix: str | None = None):
        self.what = what
        self.fix = fix
        if fix:
            fix = fix[0].upper() + fix[1:]
        super().__init__(f"{what}. {fix}" if fix else what)


class UsageError(AuthsomeError):
    """The command line asked for something that cannot be done."""


class NotLoggedIn(AuthsomeError):
    """No credentials are stored for the connection."""


class AlreadyLoggedIn(AuthsomeError):
    """A login would overwrite a connection that is still connected."""


class StoreUnavailable(AuthsomeError):
    """The secret store cannot be reached, timed out, or is locked."""


class BadPassphrase(AuthsomeError):
    """The vault passphrase is wrong."""


class CorruptData(AuthsomeError):
    """Stored data cannot be read: corrupted, tampered or of an unknown format."""


class ConfigError(AuthsomeError):
    """A provider definition or configuration file is invalid."""


class AuthFailed(AuthsomeError):
    """The provider refused, expired or revoked the authorization."""


class NetworkError(AuthsomeError):
    """A provider could not be reached."""


class Cancelled(AuthsomeError):
    """The user cancelled."""


class CommandNotFound(AuthsomeError):
    """`authsome run` could not start the command."""


class ChecksFailed(AuthsomeError):
    """`authsome doctor` found problems; `authsome scan` left a plaintext credential in place."""


class StoreDenied(StoreUnavailable):
    """The shared store refused: a Vault policy denies it, or the Vault token is no good."""


class StoreConflict(StoreUnavailable):
    """A compare-and-set write lost to other writers, again and again."""


class FilesystemError(AuthsomeError):
    """A file in the authsome home cannot be written or read: disk full, read-only, wrong type."""


class InputError(AuthsomeError):
    """An env file, template or `authsome://` reference is malformed or names what is not there."""


class SandboxUnavailable(AuthsomeError):
    """`run --sandbox` cannot sandbox here: not Linux, no bwrap, user namespaces disallowed."""


class ProxyStopped(AuthsomeError):
    """`run --sandbox`: the sandbox's link to the proxy broke mid-run; the command was stopped."""
