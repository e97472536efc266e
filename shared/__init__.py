"""Code the hub's services share: settings, database, models, crypto, storage, network adapters."""
