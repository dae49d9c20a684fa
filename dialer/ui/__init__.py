"""The PySide6 window: a thin layer over :mod:`dialer.core`.

Layering: widgets never talk to providers; they ask the ``CallService`` (through the
profile) and show what comes back through signals. Generic widgets in this package never
import the main window; the main window only composes them.
"""
