"""Call reports pushed to us: the C2C v2 webhook receiver.

``callback`` reads a report, ``receiver`` serves the URL the provider posts to (in the
app or headless as ``dialer webhooks serve``), ``settings`` says where it listens. The
receiver module imports its HTTP server, so it is imported where it is used, not from here.
"""

from dialer.webhooks.callback import MalformedCallback, is_verification, parse_c2c_callback

__all__ = ["MalformedCallback", "is_verification", "parse_c2c_callback"]
