"""Chinese text for full-text search: unigrams and bigrams of Han characters.

The database search backends (SQLite FTS5, PostgreSQL tsvector) split words on spaces and
punctuation; a run of Chinese characters stays one token, so "草稿通知" would never match
"甲校草稿通知". Indexing every character and every pair of adjacent characters, and querying
with the same pairs, is the standard remedy (Elasticsearch's ``cjk`` analyser does the same).
Plain functions over strings, no Django.
"""

import re

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_TOKEN = re.compile(rf"[{_HAN}]+|[^\W{_HAN}_]+")
_HAN_RUN = re.compile(rf"[{_HAN}]+")


def index_tokens(text: str) -> str:
    """Tokens to index: Han unigrams and bigrams; other words lower-cased as they are."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        word = match.group()
        if _HAN_RUN.fullmatch(word):
            tokens.extend(word)
            tokens.extend(word[i:i + 2] for i in range(len(word) - 1))
        else:
            tokens.append(word.lower())
    return " ".join(tokens)


def query_tokens(query: str) -> str:
    """Tokens a query must all match: bigrams for Han runs (a unigram for a lone character)."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(query):
        word = match.group()
        if _HAN_RUN.fullmatch(word):
            tokens.extend([word] if len(word) == 1 else
                          (word[i:i + 2] for i in range(len(word) - 1)))
        else:
            tokens.append(word.lower())
    return " ".join(dict.fromkeys(tokens))
