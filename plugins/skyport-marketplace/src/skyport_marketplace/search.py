"""Ranked search over every template: title first, then categories, then description.

Each word of the query must match the start of a word of the template (so
``post`` finds PostgreSQL); a match in the title weighs most, a whole-word
match more than a prefix, and a title that is the query itself comes first.
The index is built once per catalog refresh; a query looks each of its words
up in the sorted vocabulary (a binary search for the prefix range).
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Sequence

from skyport.api import AppTemplate
from skyport_marketplace.formats.common import plain_text

WORD = re.compile(r"[a-z0-9]+")
WEIGHTS = {"title": 10.0, "category": 4.0, "description": 1.0}
WHOLE_WORD = 2.0
"""A whole-word match counts this many times a prefix match."""
TITLE_IS_QUERY = 100.0
TITLE_STARTS_WITH_QUERY = 30.0


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


class SearchIndex:
    """The templates, searchable by words; filters by category, kind and source."""

    def __init__(self, templates: Sequence[AppTemplate]) -> None:
        self.templates = list(templates)
        self._titles = [" ".join(words(t.title)) for t in self.templates]
        self.plain = [plain_text(t.description) for t in self.templates]
        """Each template's description as plain text (for summaries)."""
        self._alphabetical = sorted(
            range(len(self.templates)), key=lambda n: self.templates[n].title.lower()
        )
        postings: defaultdict[str, dict[int, float]] = defaultdict(dict)
        for number, template in enumerate(self.templates):
            fields = (
                ("title", template.title),
                ("category", " ".join(template.categories)),
                ("description", self.plain[number]),
            )
            for field, text in fields:
                for word in set(words(text)):
                    weights = postings[word]
                    weights[number] = max(weights.get(number, 0.0), WEIGHTS[field])
        self._vocabulary = sorted(postings)
        self._postings = dict(postings)

    def search(
        self,
        query: str = "",
        *,
        category: str | None = None,
        kind: str | None = None,
        source: str | None = None,
    ) -> list[int]:
        """The numbers of the templates matching every word of ``query`` (all without one),
        best first (by title without one)."""
        wanted = [
            n
            for n in self._alphabetical
            if (kind is None or self.templates[n].kind == kind)
            and (source is None or self.templates[n].source == source)
            and (
                category is None
                or category.lower() in (c.lower() for c in self.templates[n].categories)
            )
        ]
        terms = words(query)
        if not terms:
            return wanted
        scores = self._scores(terms, set(wanted))
        phrase = " ".join(terms)
        for number in scores:
            title = self._titles[number]
            if title == phrase:
                scores[number] += TITLE_IS_QUERY
            elif title.startswith(phrase):
                scores[number] += TITLE_STARTS_WITH_QUERY
        return sorted(
            scores,
            key=lambda n: (-scores[n], self.templates[n].title.lower(), self.templates[n].id),
        )

    def _scores(self, terms: list[str], allowed: set[int]) -> dict[int, float]:
        total: dict[int, float] | None = None
        for term in terms:
            found: dict[int, float] = {}
            start = bisect.bisect_left(self._vocabulary, term)
            for word in self._vocabulary[start:]:
                if not word.startswith(term):
                    break
                factor = WHOLE_WORD if word == term else 1.0
                for number, weight in self._postings[word].items():
                    if number in allowed:
                        found[number] = max(found.get(number, 0.0), weight * factor)
            if total is None:
                total = found
            else:
                total = {n: s + found[n] for n, s in total.items() if n in found}
            if not total:
                return {}
        return total or {}

    def categories(self) -> dict[str, int]:
        """Every category with its number of templates (case kept as first seen)."""
        counts: dict[str, int] = {}
        spelled: dict[str, str] = {}
        for template in self.templates:
            for category in template.categories:
                name = spelled.setdefault(category.lower(), category)
                counts[name] = counts.get(name, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0].lower())))
