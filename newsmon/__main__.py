"""``python -m newsmon`` is the same as the ``newsmon`` command."""

from newsmon.cli import main

main()
