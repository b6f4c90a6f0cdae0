"""``newsmon mcp``: the archive as tools for an AI assistant (Model Context Protocol)."""
