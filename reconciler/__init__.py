"""Declarative reconciler for Twilio WhatsApp Senders.

Distributed as ``whatsapp-senders-reconciler``; imported as ``reconciler``; run as ``reconciler``.
"""

#: The one place the version is written: pyproject.toml reads it, and the release tags are
#: ``v{__version__}`` plus a moving ``v{major}`` (see CHANGELOG.md).
__version__ = "1.0.0"
