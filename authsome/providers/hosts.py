"""A provider's `hosts`: the API hosts its credential is sent to, and how a host matches one.

A pattern is a lower-case host name with an optional `:port`; a leading `*.` matches any one or
more labels in front of the rest (`*.example.com` matches `a.example.com` and `a.b.example.com`,
never `example.com`). A pattern without a port means 443. authsome.providers.routing picks the
connection for a host with `rank`; register refuses a host a bundled provider owns (`overlap`).
"""

from __future__ import annotations

from authsome.providers.tools import is_host

DEFAULT_PORT = 443
# Suffixes under which anyone can get a name, so `*.<suffix>` would send the credential to
# strangers, as `*.com` would. A subset of the Public Suffix List (publicsuffix.org,
# public_suffix_list.dat): common two-label ICANN suffixes, and PRIVATE-section domains that hand
# out subdomains to anyone who signs up. Not the whole list: it is 10,000 lines, for a check
# that only has to stop the wildcards a careless or hostile file is likely to write.
PUBLIC_SUFFIXES = frozenset(
    (  # noqa: SIM905 - words in a string read as a table
        # ICANN: second-level suffixes of country domains
        "co.uk org.uk me.uk ltd.uk plc.uk net.uk ac.uk gov.uk sch.uk nhs.uk police.uk "
        "com.au net.au org.au edu.au gov.au id.au co.nz net.nz org.nz govt.nz ac.nz "
        "co.jp ne.jp or.jp ac.jp go.jp co.kr or.kr ne.kr com.cn net.cn org.cn gov.cn "
        "com.hk com.tw com.sg com.my com.ph com.vn co.id co.th in.th co.in net.in org.in "
        "firm.in gen.in ind.in co.za org.za com.br net.br org.br com.mx com.ar com.co "
        "com.tr com.pl com.es co.il org.il co.at or.at com.ua com.eg com.sa com.pk com.ng "
        # PRIVATE: hosting that gives anyone a subdomain
        "github.io githubusercontent.com gitlab.io codeberg.page workers.dev pages.dev r2.dev "
        "trycloudflare.com netlify.app vercel.app herokuapp.com appspot.com web.app "
        "firebaseapp.com cloudfunctions.net azurewebsites.net azurestaticapps.net "
        "cloudfront.net s3.amazonaws.com elasticbeanstalk.com blogspot.com fly.dev "
        "onrender.com ngrok.io ngrok-free.app glitch.me readthedocs.io surge.sh deno.dev "
        "duckdns.org"
    ).split()
)
_RULE = "which is not a lower-case host name, with an optional leading '*.' and ':port'"


def parse_hosts(c, data: dict) -> tuple[str, ...]:
    """The checked `hosts` of a definition; `c` names the file and the field of a problem."""
    hosts = c.take(data, "hosts", list, "", default=[])
    for host in hosts:
        problem = host_problem(host)
        if problem:
            raise c.fail("hosts", f"has {host!r}, {problem}")
    return tuple(dict.fromkeys(hosts))


def host_problem(pattern: str) -> str | None:
    """Why `pattern` is not a valid host pattern, or None."""
    name = pattern.removeprefix("*.")
    if not is_host(name):
        return _RULE
    host, port = split(pattern)
    if port is not None and not 1 <= port <= 65535:
        return "whose port is not between 1 and 65535"
    suffix = host.removeprefix("*.")
    if pattern.startswith("*.") and "." not in suffix:
        return "a wildcard over a whole top-level domain"
    if pattern.startswith("*.") and suffix in PUBLIC_SUFFIXES:
        return f"a wildcard over {suffix}, where anyone can get a name (a public suffix)"
    return None


def split(pattern: str) -> tuple[str, int | None]:
    """('api.example.com', 8443) for 'api.example.com:8443'; the port is None when absent."""
    host, sep, port = pattern.rpartition(":")
    return (host, int(port)) if sep and port.isdigit() else (pattern, None)


def rank(pattern: str, host: str, port: int) -> tuple[int, int] | None:
    """How closely `pattern` matches `host`:`port` (higher is closer), or None when it does not.

    An exact name beats any wildcard; of two wildcards, the longer suffix wins."""
    name, pattern_port = split(pattern)
    if (pattern_port or DEFAULT_PORT) != port:
        return None
    if name == host:
        return (2, len(name))
    if name.startswith("*.") and host.endswith(name[1:]):  # ".x.com": never x.com itself
        return (1, len(name))
    return None


def normal_host(host: str) -> str:
    """A host as matched: lower case, without the trailing dot of a fully qualified name."""
    return host.strip().lower().rstrip(".")


def overlap(a: str, b: str) -> bool:
    """Whether some host:port matches both patterns."""
    (name_a, port_a), (name_b, port_b) = split(a), split(b)
    if (port_a or DEFAULT_PORT) != (port_b or DEFAULT_PORT):
        return False
    wild_a, wild_b = name_a.startswith("*."), name_b.startswith("*.")
    if wild_a and wild_b:  # *.b.com and *.a.b.com both match x.a.b.com
        return name_a.endswith(name_b[1:]) or name_b.endswith(name_a[1:])
    if wild_a or wild_b:
        wild, plain = (name_a, name_b) if wild_a else (name_b, name_a)
        return rank(wild, plain, DEFAULT_PORT) is not None
    return name_a == name_b
