"""Provider definitions: the schema checked on load, and the registry of bundled and user files."""
