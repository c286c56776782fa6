"""The EDC's SQLite database backend (``ENGINE = "pmrtrial.edc.sqlite_backend"``): see :mod:`.base`."""
