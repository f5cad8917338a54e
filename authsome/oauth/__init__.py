"""Login flows: device code (RFC 8628), authorization code with PKCE, API key."""

DEVICE_CODE = "device_code"
PKCE = "pkce"
API_KEY = "api_key"
DCR_PKCE = "dcr_pkce"
FLOWS = (PKCE, DEVICE_CODE, API_KEY, DCR_PKCE)
