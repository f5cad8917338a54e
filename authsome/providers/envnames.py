"""Variable names a provider's export.env may use.

`authsome env` output is eval'd by shells and inherited by every program they start, so a
provider file (with a hostile token as the value) must not pick a name that changes what a shell,
loader, interpreter or tool runs, where it connects, or what authsome itself does. Programs read
far more such names than any list holds (VIMINIT, LUA_INIT, JAVA_OPTS, DOTNET_STARTUP_HOOKS...),
so the rule is an allow rule: a name must look like a credential (CREDENTIAL_SUFFIXES). The deny
list stays as a second guard, for credential-looking names that still steer a program.
"""

from __future__ import annotations

# Every bundled provider's export names end in one of these (tests/test_provider_trust.py).
CREDENTIAL_SUFFIXES = ("_TOKEN", "_KEY", "_SECRET", "_PAT", "_PASSWORD", "_CREDENTIALS")
CREDENTIAL_RULE = "an export name must end in " + ", ".join(CREDENTIAL_SUFFIXES)
_SUFFIX_WORDS = frozenset(suffix[1:] for suffix in CREDENTIAL_SUFFIXES)

# Names that change how shells, loaders, interpreters and common tools behave, compared in upper
# case (zsh ties `path`, `fpath` and `cdpath` to PATH, FPATH and CDPATH).
RESERVED_NAMES = frozenset(
    (  # noqa: SIM905 - words in a string read as a table; a list literal would be 150 lines
        # shells: start-up files, prompts, parsing, search paths, history, locale, terminal
        "PATH ENV BASH_ENV IFS SHELLOPTS BASHOPTS POSIXLY_CORRECT PROMPT_COMMAND PROMPT_DIRTRIM "
        "PS0 PS1 PS2 PS3 PS4 PROMPT PROMPT2 PROMPT3 PROMPT4 RPROMPT RPROMPT2 RPS1 RPS2 SPROMPT "
        "PSVAR ZDOTDIR FPATH CDPATH MODULE_PATH MANPATH MAIL MAILPATH MAILCHECK INPUTRC "
        "GLOBIGNORE EXECIGNORE TMOUT NULLCMD READNULLCMD FIGNORE HOSTFILE HISTFILE HISTCONTROL "
        "HISTIGNORE HISTTIMEFORMAT HISTORY_IGNORE TIMEFORMAT FUNCNEST HOME SHELL USER LOGNAME "
        "PWD OLDPWD SHLVL TMPDIR TMP TEMP LANG LANGUAGE TERM TERMINFO TERMINFO_DIRS TERMCAP TZ "
        # the dynamic loader and the C library
        "GCONV_PATH GLIBC_TUNABLES HOSTALIASES LOCALDOMAIN RES_OPTIONS NLSPATH LOCPATH "
        # interpreters and build tools that load or run what a variable names
        "NODE_OPTIONS NODE_PATH NODE_EXTRA_CA_CERTS NODE_TLS_REJECT_UNAUTHORIZED "
        "NODE_REPL_EXTERNAL_MODULE GEM_HOME GEM_PATH BUNDLE_GEMFILE RUBYOPT RUBYLIB PERLLIB "
        "CLASSPATH JAVA_TOOL_OPTIONS _JAVA_OPTIONS JDK_JAVA_OPTIONS GOFLAGS GOPROXY GOTOOLCHAIN "
        "GOENV GOROOT GOPATH RUSTC RUSTC_WRAPPER RUSTFLAGS CC CXX CPP LD CFLAGS CXXFLAGS "
        "CPPFLAGS LDFLAGS MAKEFLAGS MFLAGS OPENSSL_CONF OPENSSL_ENGINES OPENSSL_MODULES "
        "GTK_MODULES GTK3_MODULES GTK_PATH QT_PLUGIN_PATH GIO_EXTRA_MODULES "
        # programs that programs start: editors, pagers, browsers, password prompts
        "EDITOR VISUAL PAGER MANPAGER MANOPT BROWSER SYSTEMD_PAGER SYSTEMD_EDITOR SUDO_EDITOR "
        "SSH_ASKPASS SSH_ASKPASS_REQUIRE SUDO_ASKPASS LESS LESSOPEN LESSCLOSE LESSKEY "
        "LESSSECURE LESSCHARSET "
        # where connections go and whom TLS trusts (a token here redirects or logs traffic)
        "HTTP_PROXY HTTPS_PROXY ALL_PROXY NO_PROXY FTP_PROXY SSL_CERT_FILE SSL_CERT_DIR "
        "SSLKEYLOGFILE REQUESTS_CA_BUNDLE CURL_CA_BUNDLE SSH_AUTH_SOCK DBUS_SESSION_BUS_ADDRESS "
        "DISPLAY WAYLAND_DISPLAY XAUTHORITY DOCKER_HOST DOCKER_CONFIG KUBECONFIG AWS_CONFIG_FILE "
        "AWS_SHARED_CREDENTIALS_FILE GNUPGHOME KRB5CCNAME "
        # editors, interpreters and tools that run or load what a variable says (already refused
        # by the credential rule; listed so the second guard knows them too)
        "VIMINIT EXINIT MYVIMRC GVIMINIT LUA_INIT LUA_PATH LUA_CPATH JAVA_OPTS MAVEN_OPTS "
        "GRADLE_OPTS SBT_OPTS ANT_OPTS DOTNET_STARTUP_HOOKS DOTNET_ADDITIONAL_DEPS PSMODULEPATH "
        "FCEDIT CURL_HOME WGETRC SCREENRC TMUX_TMPDIR "
        # a path that names a file of credentials, which may say what program to run
        "GOOGLE_APPLICATION_CREDENTIALS"
    ).split()
)
# Whole families: the loader, bash, locale, interpreters, package managers, git (GIT_SSH,
# GIT_CONFIG_* and dozens more run commands), fish (fish_user_paths), XDG dirs, authsome.
RESERVED_PREFIXES = (
    "LD_",
    "DYLD_",
    "BASH_",
    "COMP_",
    "LC_",
    "PYTHON",
    "PERL5",
    "PERL_",
    "RUBY",
    "NPM_CONFIG_",
    "PIP_",
    "GIT_",
    "FISH_",
    "__FISH",
    "XDG_",
    "AUTHSOME_",
    # authsome's Vault store reads VAULT_TOKEN / BAO_TOKEN: a token here decides where it writes
    "VAULT_",
    "BAO_",
    # pass encrypts to PASSWORD_STORE_KEY: a hostile key ID would get every new password
    "PASSWORD_STORE_",
)


def credential_like(name: str) -> bool:
    """Whether `name` ends in a credential suffix after something more than underscores."""
    head, _, last = name.upper().rpartition("_")
    return last in _SUFFIX_WORDS and bool(head.strip("_"))


def reserved(name: str) -> bool:
    """True when a provider may not export `name` (RESERVED_NAMES, RESERVED_PREFIXES)."""
    upper = name.upper()
    return upper in RESERVED_NAMES or upper.startswith(RESERVED_PREFIXES)
