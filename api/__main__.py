"""``python -m api`` is ``fieldline``."""

from api.cli import main

main()
