"""Small building blocks with no knowledge of commands: crypto, files, locks, HTTP, records."""

# True when authsome is the process's program (a console script's main() without argv), not a
# library that tests or another program call: what may be assumed of the whole process.
OWN_PROCESS = False
