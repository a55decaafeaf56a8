"""Hookline: team webhooks, personal access tokens and the RPC API they hang off."""

__version__ = "0.1.0"
