"""Local VK, Telegram Bot API and OK servers that speak the networks' real HTTP protocols.

An independent peer of the product, written from the networks' documentation: it never imports
``shared/`` or ``services/``, and production code never imports it. See ``sandbox/README.md``.
"""

__all__ = ["__version__"]

__version__ = "1.0.0"
