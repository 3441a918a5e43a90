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


class RankOnceResultsMixin:
    """For SQLite's backend: the full-text query run once, not once per index entry.

    Wagtail's SQLite backend joins the full-text table to the index entries and filters them
    by content type; SQLite then walks the type's entries and runs the full-text query once
    for each, and ranks each match with a correlated subquery running it again: with 2,000
    matches among 20,000 documents, counting took 2–5 s and the first 20 results 10–26 s.
    Here the full-text query runs once, on its own, for the matching entries' ids and their
    bm25 rank (Wagtail's order); the rows the search's queryset allows are read as primary
    keys, and only the requested page of objects is loaded."""

    def _do_count(self):
        matching = self._matching()
        if matching is None:
            return super()._do_count()
        return matching.count()

    def _do_search(self):
        compiler = self.query_compiler
        matching = self._matching()
        if matching is None or not compiler.order_by_relevance:
            return super()._do_search()
        allowed = {str(pk) for pk in matching.values_list("pk", flat=True)}
        ranked = _ranked_matches(compiler, compiler.get_config(self.backend),
                                 content_types=_content_types(compiler))
        page = [match for match in ranked if match[0] in allowed][self.start:self.stop]
        pk_field = compiler.queryset.model._meta.pk
        by_pk = {str(obj.pk): obj for obj in compiler.queryset.filter(
            pk__in=[pk_field.to_python(object_id) for object_id, _ in page])}
        results = []
        for object_id, score in page:
            obj = by_pk[object_id]
            if self._score_field:
                setattr(obj, self._score_field, score)
            results.append(obj)
        return results

    def _matching(self):
        """The search's queryset restricted to the matches, unordered; None for a query this
        does not answer (everything, or a negation): Wagtail's own path answers those."""
        from modelsearch.backends.database.sqlite.sqlite import IndexEntry

        compiler = self.query_compiler
        rows = _full_text_rows(compiler, compiler.get_config(self.backend))
        if rows is None:
            return None
        entries = IndexEntry._default_manager.filter(
            pk__in=rows.values("index_entry_id"),
            content_type__in=_content_types(compiler))
        return compiler.queryset.filter(pk__in=entries.values("object_id")).order_by()


def _content_types(compiler) -> list[int]:
    from modelsearch.utils import get_descendants_content_types_pks

    return get_descendants_content_types_pks(compiler.queryset.model)


def _full_text_rows(compiler, config):
    from modelsearch.backends.database.sqlite.query import MatchExpression, normalize
    from modelsearch.backends.database.sqlite.sqlite import SQLiteFTSIndexEntry
    from modelsearch.query import MatchAll, Not

    query = normalize(compiler.query)
    if isinstance(query, MatchAll | Not):
        return None
    match = MatchExpression(compiler.fields or compiler.FTS_TABLE_FIELDS,
                            compiler.build_search_query(query, config=config))
    return SQLiteFTSIndexEntry.objects.filter(match)


def _ranked_matches(compiler, config, *, content_types: list[int]
                    ) -> list[tuple[str, float]]:
    """(object id, rank) of every match of the content types, best first. The types are kept
    here, not in SQL: filtering by type there made SQLite walk the type's entries instead of
    the full-text index."""
    rank = compiler._build_rank_expression(compiler.get_search_vectors(), config)
    rows = (_full_text_rows(compiler, config).annotate(score=rank)
            .values_list("index_entry__object_id", "score", "index_entry__content_type_id"))
    wanted = set(content_types)
    matches = [(object_id, score) for object_id, score, content_type in rows
               if content_type in wanted]
    # Wagtail's order: the lowest bm25 first, then the newest.
    return sorted(matches, key=lambda match: (match[1], -_as_number(match[0])))


def _as_number(object_id: str) -> int:
    return int(object_id) if object_id.isdigit() else 0


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
    results_class = type(f"RankOnce{backend_class.results_class.__name__}",
                         (RankOnceResultsMixin, backend_class.results_class), {})
    return type(f"QuoteSafe{backend_class.__name__}", (QuoteSafeMixin, backend_class),
                {"results_class": results_class})


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
