"""voicebot performance benchmark: a script, never a timed test.

One run prints, on the machine it runs on:

* end-to-end ingest throughput (``Importer.import_quotes``, DB writes included) beside
  the raw model's encode throughput (``SentenceTransformer.encode``) on the same texts;
* single-query search latency (median, p95) at each ``--sizes`` (default 1k, 10k, 100k
  quotes): the app's ``QuoteIndex.search`` beside FAISS and brute-force NumPy, and the full
  ``SearchService.search`` (query encode + ranking + database fetch) and its stages;
* time from start to ready (fresh Python process running ``build_services``) with the
  largest size stored, with a breakdown;
* peak memory (this process, and the ready probe, which is the realistic server figure).

The table is printed and written to ``bench/PERF.md`` (one section per database backend).

Texts are real sentences: banking77 and clinc150 under ``--data``. Encoding 100k texts with
the model would take minutes on 2 cores, so the stored corpus is a pool of really encoded
texts (``--pool``) fanned out to the wanted size as pool vector + small Gaussian noise
(renormalised), each row with a unique text (``"<pool text> #<n>"``) and
``embedding_model`` = the model's name, so start-up loads them without re-encoding.

Usage (from the repository root; ``bench/perf.py`` is the same launcher)::

    .venv/bin/python -m bench.perf                         # temp SQLite file
    .venv/bin/python -m bench.perf --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python -m bench.perf --quick                 # smaller, for a smoke run
    .venv/bin/python -m bench.perf --sizes 1000 --ingest 200 --queries 20 --pool 500 --no-write

One module per benchmark: ``ingest``, ``search`` (QuoteIndex vs FAISS vs NumPy,
SearchService end to end), ``stages`` (SearchService stages through its ``timer`` seam),
``ready`` (start to ready and the server's peak memory); ``corpus`` and ``databases`` set the
stage, ``report`` writes the table and bench/PERF.md.

With a PostgreSQL URL, the benchmark creates its own databases next to the one named in
the URL (which is only used to run CREATE/DROP DATABASE) and drops them at the end.
"""
