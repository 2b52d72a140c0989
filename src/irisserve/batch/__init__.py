"""Batch scoring with Apache Beam: the function's artifact, validation and answers.

- ``handler``: the ``RunInference`` model handler, scored like the function
- ``pipeline``: files → chunks of rows → RunInference → answers and errors, with counts
- ``records``: input bytes into chunks of rows, JSONL native bodies or CSV rows (pure)
- ``answers``: each body answered as the function answers it alone (pure)
- ``output``: a scored chunk into its answer and error lines (pure)
- ``explain``: ``--explain``, each scored row's answer with its exact attributions
- ``_model_dir``: open an artifact folder from any path Beam's ``FileSystems`` reads
- ``cli``, ``__main__``: ``python -m irisserve.batch``

Install ``irisserve[beam]``; run ``python -m irisserve.batch`` (see docs/batch.md).
Who may import it: nothing else in the library (nothing on the function's path); users and
``bench/batch.py``. It imports ``artifact``, ``schema``, ``protocols`` and, of ``serving``,
only ``errortable``.
"""

__all__: list[str] = []
