"""The login flows' names: what a provider's `flow` may say. oauth/__init__.py maps each to the
module that runs it; providers only need the names, so they never import oauth."""

PKCE = "pkce"
DEVICE_CODE = "device_code"
API_KEY = "api_key"
DCR_PKCE = "dcr_pkce"
NAMES = (PKCE, DEVICE_CODE, API_KEY, DCR_PKCE)  # in the order shown in help and errors
