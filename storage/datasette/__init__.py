"""veille in Datasette: metadata, canned queries and a plugin that renders changes as HTML.

The plugin (:mod:`storage.datasette.plugin`) is loaded by Datasette through the ``datasette``
entry point; ``veille serve`` (``monitor/serve.py``) starts Datasette with the metadata of
:mod:`storage.datasette.metadata`. Everything here only reads the database.
"""
