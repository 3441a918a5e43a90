"""Wagtail's database search backend, with queries that cannot break SQLite's full-text syntax.

On SQLite, Wagtail's backend (modelsearch) puts each word of a query between double quotes in
an FTS5 MATCH expression without doubling a double quote inside it: a search for ``"`` (or
``a"b``) ends in "unterminated string", and one of nothing but spaces in an error too — a
500 in the admin's searches and API v3's ``?search=``. The unicode61 tokeniser the index uses
treats ``"`` as a separator anyway, so here it is read as a space, and a query left without a
word finds nothing (as the empty query does). PostgreSQL and the fallback backend are used as
they are.
"""

from modelsearch.backends.base import EmptySearchResults
from modelsearch.backends.database.sqlite.sqlite import SQLiteSearchBackend
from modelsearch.query import Phrase, PlainText
from wagtail.search.backends.database import SearchBackend as database_backend


def without_quotes(query):
    """``query`` with double quotes read as spaces (a string, plain text or a phrase); None
    when no word is left."""
    if isinstance(query, str):
        query = query.replace('"', " ")
        return query if query.split() else None
    if isinstance(query, PlainText | Phrase):
        text = query.query_string.replace('"', " ")
        if not text.split():
            return None
        if text == query.query_string:
            return query
        if isinstance(query, Phrase):
            return Phrase(text)
        return PlainText(text, operator=query.operator, boost=query.boost)
    return query


class QuoteSafeSQLiteSearchBackend(SQLiteSearchBackend):
    def _search(self, query_compiler_class, query, model_or_queryset, **kwargs):
        query = without_quotes(query)
        if query is None:
            return EmptySearchResults()
        return super()._search(query_compiler_class, query, model_or_queryset, **kwargs)


def SearchBackend(params):
    backend = database_backend(params)
    if type(backend) is SQLiteSearchBackend:
        return QuoteSafeSQLiteSearchBackend(params)
    return backend
