"""Batch scoring with Apache Beam: the function's artifact, validation and answers.

Install ``irisserve[beam]``; run ``python -m irisserve.batch`` (see docs/batch.md).
Nothing on the function's path imports this package.
"""

__all__: list[str] = []
