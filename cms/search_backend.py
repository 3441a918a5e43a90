"""Wagtail's database search backend (SQLite FTS5, PostgreSQL), finding Chinese words inside
titles everywhere: the admin's page, document, image and resource searches and API v3's
``?search=``, as the public search does (cms.cjk).

The database backends keep a run of Chinese characters as one token, so "典礼" never matches
"开学典礼通知". Here every indexed object also carries the Han unigrams and bigrams of its
searchable text (pages already have them, ``chinese_search_tokens``), and a query with Chinese
in it is searched as its bigrams, all of which must match. The admin searches "as you type"
(autocomplete, which reads only the title's prefixes): a Chinese query is searched in full
instead. Settings: ``WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "cms.search_backend"}}``;
after switching, ``manage.py update_index`` adds the tokens to what is indexed already.

Quotes: on SQLite, Wagtail's backend (modelsearch) puts each word of a query between double
quotes in an FTS5 MATCH expression without doubling a double quote inside it: a search for
``"`` (or ``a"b``) ended in "unterminated string", and one of nothing but spaces in an error
too (a 500 in the admin's searches and API v3's ``?search=``). The unicode61 tokeniser the
index uses treats ``"`` as a separator anyway, so here it is read as a space, and a query left
without a word finds nothing (as the empty query does).
"""

import functools
import re

from django.db import IntegrityError, transaction
from modelsearch.backends import database
from modelsearch.backends.base import EmptySearchResults
from modelsearch.index import SearchField
from modelsearch.query import Phrase, PlainText

from cms.cjk import index_tokens, query_tokens

TOKENS_FIELD = "cjk_search_tokens"
# Pages index their tokens themselves (cms.models.CHINESE_SEARCH_FIELD).
OWN_TOKENS_FIELD = "chinese_search_tokens"
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


def has_han(text: str) -> bool:
    return bool(_HAN.search(text or ""))


def _searchable_text(obj, fields) -> str:
    values = []
    for field in fields:
        if isinstance(field, SearchField):
            value = field.get_value(obj)
            if isinstance(value, str):
                values.append(value)
    return " ".join(values)


def with_tokens(obj):
    """``obj``, indexed with the Han tokens of its searchable text as one more field.

    The backends read an object's fields through ``obj.get_search_fields()``; the tokens are
    declared on this instance only, so that Wagtail's own models (documents, images) get them
    without a model of our own."""
    fields = list(obj.get_search_fields())
    names = {getattr(field, "field_name", None) for field in fields}
    if OWN_TOKENS_FIELD in names or TOKENS_FIELD in names:
        return obj
    setattr(obj, TOKENS_FIELD, index_tokens(_searchable_text(obj, fields)))
    extended = [*fields, SearchField(TOKENS_FIELD)]
    obj.get_search_fields = lambda: extended
    return obj


def chinese_query(query):
    """The query as bigrams that must all match, if it has Chinese in it; else None. Takes a
    string or a plain-text query (the admin's page search parses its query first)."""
    if isinstance(query, PlainText):
        text = query.query_string
    elif isinstance(query, str):
        text = query
    else:
        return None
    if not has_han(text):
        return None
    return PlainText(query_tokens(text), operator="and")


class ChineseSearchMixin:
    def search(self, query, model_or_queryset, fields=None, operator=None,
               order_by_relevance=True):
        chinese = chinese_query(query)
        if chinese is not None:
            # The tokens are one field of their own: a search restricted to named fields
            # (the title) would not reach them.
            query, operator, fields = chinese, None, None
        return super().search(query, model_or_queryset, fields=fields, operator=operator,
                              order_by_relevance=order_by_relevance)

    def autocomplete(self, query, model_or_queryset, fields=None, operator=None,
                     order_by_relevance=True):
        if chinese_query(query) is not None:
            return self.search(query, model_or_queryset,
                               order_by_relevance=order_by_relevance)
        return super().autocomplete(query, model_or_queryset, fields=fields,
                                    operator=operator, order_by_relevance=order_by_relevance)


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


class QuoteSafeMixin:
    """For SQLite's backend: a query read without its double quotes (``without_quotes``)."""

    def _search(self, query_compiler_class, query, model_or_queryset, **kwargs):
        query = without_quotes(query)
        if query is None:
            return EmptySearchResults()
        return super()._search(query_compiler_class, query, model_or_queryset, **kwargs)


class ChineseIndexMixin:
    def add_items(self, model, objs):
        objs = [with_tokens(obj) for obj in objs]
        try:
            with transaction.atomic(using=self.write_connection.alias):
                return super().add_items(model, objs)
        except IntegrityError:
            # On SQLite, Wagtail's index looks up which objects have an entry, then inserts
            # the others: two workers indexing the same object (a page saved twice in a
            # burst queues two index tasks) both insert, and the second failed for good.
            # Once more, the entry the other worker made is found and updated instead.
            with transaction.atomic(using=self.write_connection.alias):
                return super().add_items(model, objs)


@functools.cache
def _quote_safe(backend_class: type) -> type:
    return type(f"QuoteSafe{backend_class.__name__}", (QuoteSafeMixin, backend_class), {})


@functools.cache
def _chinese(backend_class: type) -> type:
    index_class = type(f"Chinese{backend_class.index_class.__name__}",
                       (ChineseIndexMixin, backend_class.index_class), {})
    return type(f"Chinese{backend_class.__name__}", (ChineseSearchMixin, backend_class),
                {"index_class": index_class})


# (The name Wagtail looks up in a backend module.)
def SearchBackend(params):
    """The database backend for the database in use (as Wagtail's), with Chinese search."""
    backend_class = type(database.SearchBackend(params))
    # Compared by module, not imported: the SQLite backend's module looks up its index model,
    # which exists only on SQLite.
    if backend_class.__module__.startswith("modelsearch.backends.database.sqlite"):
        backend_class = _quote_safe(backend_class)
    return _chinese(backend_class)(params)
