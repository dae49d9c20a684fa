"""The composition root: what puts the core, the history, the providers and the webhook
receiver together into one working profile.

``CallService`` (the one place a widget or a command asks for a call), ``Profile`` (one
user's stores and services, opened and closed together) and the demo profile live here, above
every other package but ``cli`` and ``ui``, which are the entry points that use them.
"""
