"""Network adapters (VK, OK, Telegram) behind one interface: see ``shared.adapters.base``."""
