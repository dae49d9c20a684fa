"""Desktop click-to-call dialer.

The package is split in two: a Qt-free core (``core``, ``providers``, ``simulator``, ``cli``)
that runs and is tested without a display, and a thin ``ui`` on top of it.
"""

__version__ = "0.1.0"
