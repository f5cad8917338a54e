"""The command line: click commands (root.py) and the click-free fast paths for the hot
commands and Tab (fastpath.py, tab.py). Each module parses, calls one service, prints."""
