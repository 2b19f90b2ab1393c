"""A segment's in-memory record index: by LSN and by (page, LSN).

Owns the lookup structures a segment needs on its hot paths: insert a record, the records of
a page in an LSN range (materialization), the records in an LSN range (gossip, recovery).
Not the chain/SCL logic or persistence (logstore.segment).

Records arrive almost always in increasing LSN order, so each sorted list is appended to in
O(1) and only a late (reordered) record pays for an insertion; lookups are bisections.

    records: dict lsn -> RedoRecord       lsns: sorted list of every lsn
    by_page: dict page -> sorted list of that page's lsns
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator

from pgaurora.logstore.records import RedoRecord


class RecordIndex:
    __slots__ = ("records", "lsns", "by_page")

    def __init__(self) -> None:
        self.records: dict[int, RedoRecord] = {}
        self.lsns: list[int] = []
        self.by_page: dict[int, list[int]] = {}

    def __len__(self) -> int:
        return len(self.records)

    def __contains__(self, lsn: int) -> bool:
        return lsn in self.records

    def __getitem__(self, lsn: int) -> RedoRecord:
        return self.records[lsn]

    def values(self) -> Iterator[RedoRecord]:
        """Records in LSN order."""
        records = self.records
        return (records[lsn] for lsn in self.lsns)

    def add(self, record: RedoRecord) -> None:
        lsn = record.lsn
        self.records[lsn] = record
        lsns = self.lsns
        if not lsns or lsn > lsns[-1]:
            lsns.append(lsn)
        else:
            insort(lsns, lsn)
        page_lsns = self.by_page.get(record.page)
        if page_lsns is None:
            self.by_page[record.page] = [lsn]
        elif lsn > page_lsns[-1]:
            page_lsns.append(lsn)
        else:
            insort(page_lsns, lsn)

    def add_batch(self, records: list[RedoRecord], floor: int = 0) -> list[RedoRecord]:
        """add() for each record above `floor` not held yet; returns those (a batch's new records)."""
        known = self.records
        lsns = self.lsns
        by_page = self.by_page
        fresh = []
        for record in records:
            lsn = record[0]
            if lsn <= floor or lsn in known:
                continue
            fresh.append(record)
            known[lsn] = record
            if not lsns or lsn > lsns[-1]:
                lsns.append(lsn)
            else:
                insort(lsns, lsn)
            page = record[1]
            page_lsns = by_page.get(page)
            if page_lsns is None:
                by_page[page] = [lsn]
            elif lsn > page_lsns[-1]:
                page_lsns.append(lsn)
            else:
                insort(page_lsns, lsn)
        return fresh

    def remove(self, doomed: Iterable[int]) -> set[int]:
        """Drops the given LSNs (rebuilding the lists: GC and truncation are rare and batched);
        returns the pages that lost records."""
        doomed = set(doomed)
        pages: set[int] = set()
        if not doomed:
            return pages
        for lsn in doomed:
            record = self.records.pop(lsn, None)
            if record is not None:
                pages.add(record.page)
        self.lsns = [lsn for lsn in self.lsns if lsn not in doomed]
        for page in pages:
            kept = [lsn for lsn in self.by_page[page] if lsn not in doomed]
            if kept:
                self.by_page[page] = kept
            else:
                del self.by_page[page]
        return pages

    def between(self, low: int, high: int) -> list[int]:
        """LSNs in (low, high]."""
        lsns = self.lsns
        return lsns[bisect_right(lsns, low) : bisect_right(lsns, high)]

    def last_at_or_below(self, lsn: int) -> int | None:
        index = bisect_right(self.lsns, lsn)
        return self.lsns[index - 1] if index else None

    def last(self) -> int | None:
        return self.lsns[-1] if self.lsns else None

    def first(self) -> int | None:
        return self.lsns[0] if self.lsns else None

    def page_between(self, page: int, low: int, high: int) -> list[int]:
        """LSNs of `page` in (low, high]."""
        page_lsns = self.by_page.get(page)
        if not page_lsns:
            return []
        return page_lsns[bisect_right(page_lsns, low) : bisect_right(page_lsns, high)]

    def page_last_at_or_below(self, page: int, lsn: int) -> int | None:
        page_lsns = self.by_page.get(page)
        if not page_lsns:
            return None
        index = bisect_right(page_lsns, lsn)
        return page_lsns[index - 1] if index else None

    def page_first(self, page: int) -> int | None:
        page_lsns = self.by_page.get(page)
        return page_lsns[0] if page_lsns else None

    def pages_at_or_below(self, lsn: int) -> list[int]:
        """Pages that have a record at or below `lsn`."""
        return [page for page, page_lsns in self.by_page.items() if page_lsns[0] <= lsn]

    def count_above(self, lsn: int) -> int:
        return len(self.lsns) - bisect_left(self.lsns, lsn + 1)
