"""``python -m sagepipe``: the ``sagepipe`` command line."""

from sagepipe.cli import main

raise SystemExit(main())
