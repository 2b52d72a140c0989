"""``python -m irisserve.packaging``: package a fitted estimator as an artifact folder."""

from irisserve.packaging.cli import main

raise SystemExit(main())
