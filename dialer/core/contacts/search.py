"""Search as the agent types: queries parsed into terms, and the in-memory index they run on.

Why in memory, and how (figures at 100,000 demo contacts on the development machine, a
2-core EPYC VM; ``python -m benchmarks`` prints them for the machine it runs on; target
30 ms):

- SQLite alone, measured first: the folded columns behind one covering index in display
  order, scanned with ``instr()``. That one sequential pass costs 25 ms with no match at
  all, and handing 33,000 matching ids to Python through ``sqlite3`` as much again: 55 ms
  for ``ra``, 48 ms for ``8867``. ``LIKE`` is no faster; a larger page cache or mmap
  barely helps.
- FTS5 with the trigram tokenizer: 0.5-8 ms for three characters or more, but it cannot
  answer the commonest query, two letters (MATCH needs three; LIKE falls back to a scan of
  the FTS table: 170 ms for ``ra``); it adds 5 s to a 100,000-contact insert and takes the
  file from 29 to 53 MB.
- So SQLite keeps the folded columns (computed once, on write), and the first search reads
  them in display order into lists here (ids; folded "name\ncompany"; number digits) and
  joins each column into one string: ~0.2 s and ~28 MB at 100,000 contacts. A term is then
  found in one of two ways, picked per term from a cheap sample of how often it occurs:

  * common terms (``ra`` is in a third of all names): ``compress(range(n), map(contains,
    column, repeat(term)))``, a scan of every row that never leaves C, 10-17 ms;
  * rare terms (most four-digit queries, full names): ``str.split`` of the joined column,
    the separators in the pieces counted with ``accumulate`` to give the rows, again all
    in C: 2-8 ms, growing with the matches rather than with the rows.

  Further words only filter the rows that the first (longest) one matched. Measured: two
  letters p50 12 ms / p95 17 ms, four digits 13 / 14 ms, a full name 5 / 6 ms.
"""

from __future__ import annotations

import re
from itertools import accumulate, compress, repeat
from operator import contains

from dialer.core import collector
from dialer.core.contacts.model import digits_of, normalise

# What a typed number may contain besides digits: "+91 (886) 71-35.000".
_NUMBER_LIKE = re.compile(r"[\d\s+\-().\u00a0/]+")
# Between rows in a joined column. Whitespace, so normalise() never leaves one in a key.
SEPARATOR = "\x1e"
_SAMPLES, _SAMPLE_CHARS = 256, 256
# Estimated matches per row above which one scan of every row beats splitting the blob.
_SPLIT_BELOW = 1 / 8

Term = tuple[str, bool]  # (text to find, whether it is a number that may match numbers too)


def parse_query(text: str) -> list[Term]:
    """A query as terms that must all match, the longest first.

    A query that is only a number (``+91 886-71``) is one term, its digits taken together;
    otherwise each folded word is a term, and a word that is a number of 2+ digits is looked
    for by its digits (``886-71`` -> ``88671``), in numbers as well as in names.
    """
    stripped = text.strip()
    if _NUMBER_LIKE.fullmatch(stripped):
        digits = digits_of(stripped)
        if len(digits) >= 2:
            return [(digits, True)]
    terms: list[Term] = []
    for word in normalise(stripped).split():
        digits = digits_of(word) if _NUMBER_LIKE.fullmatch(word) else ""
        terms.append((digits, True) if len(digits) >= 2 else (word, False))
    # The longest term first: it matches fewest rows, and the others only look at those.
    return sorted(dict.fromkeys(terms), key=lambda term: -len(term[0]))


class _Column:
    """One searched column: a string per row, and (built when first needed) all of them
    joined with :data:`SEPARATOR` into one blob."""

    __slots__ = ("_blob", "values")

    def __init__(self, values: list[str]):
        self.values = values
        self._blob: str | None = None

    @property
    def blob(self) -> str:
        if self._blob is None:
            self._blob = SEPARATOR.join(self.values)
        return self._blob

    def changed(self) -> None:
        self._blob = None

    def rows(self, term: str) -> list[int]:
        """Positions of the rows that contain ``term``, in order."""
        values, blob = self.values, self.blob
        if not values:
            return []
        # Estimate how common the term is from samples of the blob: 64 K characters in all,
        # in small pieces, as names sharing a beginning sit together in display order.
        if len(blob) <= _SAMPLES * _SAMPLE_CHARS:
            estimate = float(blob.count(term))
        else:
            step = len(blob) // _SAMPLES
            sampled = sum(
                blob.count(term, start, start + _SAMPLE_CHARS)
                for start in range(0, step * _SAMPLES, step)
            )
            estimate = sampled * len(blob) / (_SAMPLES * _SAMPLE_CHARS)
        if estimate >= _SPLIT_BELOW * len(values):
            return list(compress(range(len(values)), map(contains, values, repeat(term))))
        pieces = blob.split(term)
        pieces.pop()  # what follows the last occurrence
        # The row of the k-th occurrence is the number of separators before it.
        return list(dict.fromkeys(accumulate(map(str.count, pieces, repeat(SEPARATOR)))))


class SearchIndex:
    """Every contact's folded search keys in display order (favourites, name, id).

    ``texts[i]`` is ``"<folded name>\\n<folded company>"`` and ``numbers[i]`` the digit
    strings of its numbers, space separated, for the contact ``ids[i]``. A term never holds
    whitespace, so it cannot match across a name and a company, or across two numbers.
    """

    __slots__ = ("_numbers", "_texts", "data_version", "ids")

    def __init__(self, ids: list[int], texts: list[str], numbers: list[str], data_version: int):
        self.ids = ids
        self._texts = _Column(texts)
        self._numbers = _Column(numbers)
        self.data_version = data_version
        for column in (self._texts, self._numbers):
            _ = column.blob  # joined now, as part of loading, rather than in a search

    def __len__(self) -> int:
        return len(self.ids)

    def drop(self) -> None:
        """Empty the index a slice at a time (see :func:`collector.drop_in_chunks`); it is
        not used again."""
        for values in (self.ids, self._texts.values, self._numbers.values):
            collector.drop_in_chunks(values)
        self._texts.changed()
        self._numbers.changed()

    def search(self, terms: list[Term]) -> list[int]:
        """The ids matching every term, in display order."""
        if not terms:
            return list(self.ids)
        return list(map(self.ids.__getitem__, self.rows(terms)))

    def rows(self, terms: list[Term]) -> list[int]:
        """Positions of the rows matching every term (at least one), in display order."""
        (first, is_number), *others = terms
        rows = self._texts.rows(first)
        if is_number:
            in_numbers = self._numbers.rows(first)
            rows = sorted(set(rows).union(in_numbers)) if rows else in_numbers
        texts, numbers = self._texts.values, self._numbers.values
        for term, is_number in others:
            if is_number:
                rows = [i for i in rows if term in texts[i] or term in numbers[i]]
            else:
                rows = [i for i in rows if term in texts[i]]
        return rows

    def remove(self, contact_id: int) -> None:
        """Forget a contact (no-op if it is not there)."""
        try:
            position = self.ids.index(contact_id)
        except ValueError:
            return
        del self.ids[position]
        del self._texts.values[position]
        del self._numbers.values[position]
        self._texts.changed()
        self._numbers.changed()

    def insert(self, position: int, contact_id: int, text: str, numbers: str) -> None:
        self.ids.insert(position, contact_id)
        self._texts.values.insert(position, text)
        self._numbers.values.insert(position, numbers)
        self._texts.changed()
        self._numbers.changed()
