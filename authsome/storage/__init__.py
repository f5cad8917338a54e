"""Where secrets and metadata live: store selection, backends, the index, the repository."""
