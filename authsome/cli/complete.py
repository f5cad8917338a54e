"""Tab completion callbacks: cheap, reading file names and the plain index only."""

from click.shell_completion import CompletionItem


def _context(ctx):
    root = ctx.find_root()
    if root.obj is None:
        from authsome.context import Context

        root.obj = Context()
    return root.obj


def provider_names(ctx, param, incomplete):
    try:
        names = _context(ctx).registry.names()
    except Exception:  # noqa: BLE001 - completion never shows an error
        return []
    return [CompletionItem(n) for n in names if n.startswith(incomplete)]


def connected_refs(ctx, param, incomplete):
    try:
        from authsome.index import Index

        home = _context(ctx).home
        entries = Index(home.index_file, home.locks_dir / "index.lock").read()
    except Exception:  # noqa: BLE001
        return []
    refs = []
    for e in entries.values():
        provider, conn = e.get("provider"), e.get("connection")
        refs.append(provider if conn == "default" else f"{provider}:{conn}")
    return [CompletionItem(r) for r in sorted(set(refs)) if r.startswith(incomplete)]
