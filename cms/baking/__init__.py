"""Static publishing (静态化): the public pages of every site baked to files.

Publication events (publish, takedown, column change, scheduled go-live) re-render the
affected public files under ``BAKE_DIR/<site>/`` in the background; ``manage.py bake`` catches
up or rebuilds; the embedded server serves the files (``middleware``) and renders dynamically
only what is not baked. API v3 reads of live content are cached (``api_cache``).

Plain logic (paths, atomic files) lives in ``paths`` and ``files``; ``plan`` decides what an
event affects, ``render`` renders through Django's normal request path, ``engine`` writes.
"""
