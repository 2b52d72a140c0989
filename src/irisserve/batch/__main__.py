"""``python -m irisserve.batch``: score files with an artifact, as the function would."""

from irisserve.batch.cli import main

raise SystemExit(main())
