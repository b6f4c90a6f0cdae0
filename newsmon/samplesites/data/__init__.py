"""Package data for the sample sites: ``articles.json`` (see ../PROVENANCE.md)."""
