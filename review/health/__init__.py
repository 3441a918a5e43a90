"""Site health against the national inspection indicators (国办秘函〔2019〕19号): what a
bureau's web team is judged on after publication.

* ``ledger``: timeliness of every column and of the homepage, blank columns, veto items,
  early warnings and the score (plain functions over frozen dataclasses);
* ``links`` and ``fingerprint``: links found in published HTML, how a fetch is judged, and
  how an external target's fingerprint (final address, host, title, screening of its text)
  is compared with the one taken at approval (外链变异); plain functions;
* ``fetch``: external fetching with bounded concurrency, per-host politeness, timeouts and
  robots.txt (standard library only);
* ``sources``: what the composition root tells the engine through hooks (columns, their kinds
  and intervals, people, scope, the baked tree) and what the publication register says;
* ``linkcheck``, ``availability``, ``report``, ``daily``: the jobs and reports over the models
  (``models``: link targets and their history, probes, daily snapshots).

Exceptions: ``HealthError`` (a ``review.exceptions.ReviewError``) for bad input to the
commands and views (an unknown site slug, an unknown format).
"""
