"""The console's pages: each module exposes ``routes`` and ``NAV`` (see ``app.py``)."""
