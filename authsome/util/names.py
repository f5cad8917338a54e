"""The one rule for provider and connection names: lowercase, short, safe in a file name and a
shell word, and never mistaken for an option."""

import re

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
