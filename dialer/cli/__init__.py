"""The ``dialer`` command line."""
