"""HTML templates of the sample sites (``string.Template``: ``$name`` placeholders)."""
