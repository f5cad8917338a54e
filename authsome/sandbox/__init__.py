"""`authsome run --proxy --sandbox`: the child in bubblewrap's namespaces, with no way to its
credentials but the proxy.

hidden.py decides what the child may not see (pure, tested by a table); bwrap.py turns that
into bwrap's arguments (pure); seccomp.py assembles the filter that closes the kernel keyring;
forwarder.py is the first process inside, the child's only way out; runner.py starts it all.
Only services/proxyrun.py imports this package.
"""
