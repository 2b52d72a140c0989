"""Stage a pinned, self-contained source folder and deploy irisserve with gcloud.

Run it as ``./deploy.sh`` (or ``python -m deploy``); ``--help`` lists the options.
A tool of the checkout, like ``training`` and ``bench``: it reads the lock, the
entry points and builds the wheel from this tree, so it is not part of the
irisserve package that is deployed.

- :mod:`deploy.options`: the command line, checked before anything happens (exit 2).
- :mod:`deploy.stage`: the artifact check and the staged folder.
- :mod:`deploy.commands`: the gcloud commands, and the log-based metric configs.
- :mod:`deploy.__main__`: print them (``--dry-run``) or run them in order.
"""

__all__: list[str] = []
