"""Declarative reconciler for Twilio WhatsApp Senders."""

__version__ = "0.1.0"
