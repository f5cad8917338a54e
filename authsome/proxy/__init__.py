"""`authsome run --proxy`: a local HTTPS proxy that adds credentials to the child's requests.

router.py decides (pure functions, tested by a table); rules.py and paths.py decide which
requests may carry a credential (pure too); authority.py mints certificates; server.py and
relay.py move bytes with h11; environ.py builds what the child sees. Only services/proxyrun.py
and services/requestrules.py import this package, and only for `run --proxy`.
"""
