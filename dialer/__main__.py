"""``python -m dialer``: the same entry point as the ``dialer`` console script."""

from dialer.cli.main import main

raise SystemExit(main())
