"""Artifact folders: the manifest, fetching, verifying and opening a folder into a ``Model``.

- ``manifest``: the format: write, read, verify sha256s; the input schema (``Feature``), task
- ``model``: ``Model``, a verified artifact's manifest beside its scorer
- ``folder``: open a folder: verify every sha256, check versions, deserialise
- ``deferred``: files read on the first request needing them (``explain.npz``), verified then
- ``requirements``: the libraries a backend needs beyond the serving lock; their check
- ``source``: open the configured folder, a local one in place or a ``gs://`` one fetched
- ``storage``: fetch a ``gs://`` folder into a local one, pinned and verified
- ``skops``: the ``model.skops`` file: write, and load trusting only listed types

Who may import it: ``manifest`` everyone (it is the format ``schema``, ``drift`` and
``scorers`` read, and they import nothing else of this package); the rest ``serving``
(``state``), ``protocols``, ``packaging`` and ``batch``. It imports ``errors``, ``config``,
``schema`` and ``scorers``; never ``serving``, ``protocols``, ``packaging`` or ``batch``.
"""
