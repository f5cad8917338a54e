"""Tab completion callbacks for click: the names come from authsome.completion."""

from click.shell_completion import CompletionItem

from authsome import completion


def _context(ctx):
    root = ctx.find_root()
    if root.obj is None:
        from authsome.context import Context

        root.obj = Context()
    return root.obj


def provider_names(ctx, param, incomplete):
    return [CompletionItem(n) for n in completion.provider_names(_context(ctx), incomplete)]


def connected_refs(ctx, param, incomplete):
    return [CompletionItem(r) for r in completion.connected_refs(_context(ctx), incomplete)]
