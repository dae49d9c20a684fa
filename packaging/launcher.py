"""The frozen app's entry script (PyInstaller runs a script, not a console-script entry point).

Same behaviour as the ``dialer`` command and ``python -m dialer``.
"""

from dialer.cli.main import main

raise SystemExit(main())
