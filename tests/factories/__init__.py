"""The one set of builders of the tests: rows (rows.py), figures and search costs (figures.py),
result documents (documents.py), docker save tarballs (tarballs.py) and page scenes (scenes.py)."""
