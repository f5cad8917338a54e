"""Login flows as a table: FLOWS[name].obtain(ctx, request) returns the Connection to save.

Imported on hot paths (providers/schema.py), so a flow's module is imported only when it runs.
A new flow is one module with `obtain(ctx, request)` and one entry in FLOWS.
"""

from __future__ import annotations

from authsome.providers.flownames import API_KEY, DCR_PKCE, DEVICE_CODE, PKCE

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628's grant_type


class Flow:
    """One login flow: its name and where its `obtain(ctx, request)` lives ("module:function")."""

    __slots__ = ("name", "target", "store_first")

    def __init__(self, name: str, target: str, store_first: bool = True):
        self.name = name
        self.target = target
        # True: the store is unlocked or created before the flow runs, so nobody is asked for a
        # passphrase halfway through it. False: the flow checks its secret first, so that a bad
        # one leaves no new vault and passphrase behind.
        self.store_first = store_first

    def obtain(self, ctx: Context, request):
        """Run the flow; the Connection it yields, not yet saved."""
        from importlib import import_module

        module, _, function = self.target.partition(":")
        return getattr(import_module(module), function)(ctx, request)

    def __repr__(self) -> str:
        return f"Flow({self.name!r}, {self.target!r})"


# In the order shown in help and errors. Iterating FLOWS gives the names.
FLOWS = {
    PKCE: Flow(PKCE, "authsome.oauth.pkce:obtain"),
    DEVICE_CODE: Flow(DEVICE_CODE, "authsome.oauth.device:obtain"),
    API_KEY: Flow(API_KEY, "authsome.oauth.apikey:obtain", store_first=False),
    DCR_PKCE: Flow(DCR_PKCE, "authsome.oauth.pkce:obtain"),
}
