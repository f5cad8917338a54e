"""Small building blocks with no knowledge of commands: crypto, files, locks, HTTP, records."""
