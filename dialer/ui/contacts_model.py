"""Contacts for the window: a table over the store's search results, loaded by the page.

The store answers a search with ids only; rows are read 100 at a time as the view asks for
them, so 100,000 contacts cost a list of ints, not 100,000 objects.
"""

from __future__ import annotations

import functools
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from dialer.core.contacts import Contact, ContactStore
from dialer.core.numbers import display_international

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("", "Name", "Company", "Number")
ContactRole = Qt.ItemDataRole.UserRole + 1


@functools.lru_cache(maxsize=4096)
def display_number(number: str) -> str:
    """``+918867135000`` -> ``+91 88671 35000``; anything unparsable is shown as stored."""
    return display_international(number)


def read_first_page(store: ContactStore, ids: list[int]) -> list[Contact]:
    """The contacts a new result shows first, read and their numbers formatted (a worker
    thread's job: the first number of a country compiles phonenumbers' patterns for it,
    up to 20 ms, which the loop would otherwise spend on the first paint)."""
    page = store.get_many(ids[: ContactsTableModel.PAGE])
    for contact in page:
        for number in contact.numbers:
            display_number(number.number)
    return page


class ContactsTableModel(QAbstractTableModel):
    PAGE = 100

    def __init__(self, store: ContactStore, parent: Any = None):
        super().__init__(parent)
        self._store = store
        self._ids: list[int] = []
        self._cache: dict[int, Contact] = {}

    def set_ids(self, ids: list[int], first_page: list[Contact] | None = None) -> None:
        """Show a new search result (computed off the GUI thread by the caller), with its
        first page when the caller read it there too (:func:`read_first_page`)."""
        self.beginResetModel()
        self._ids = ids
        self._cache.clear()
        for contact in first_page or ():
            if contact.id is not None:
                self._cache[contact.id] = contact
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def contact(self, row: int) -> Contact | None:
        if not 0 <= row < len(self._ids):
            return None
        contact_id = self._ids[row]
        if contact_id not in self._cache:
            start = row - row % self.PAGE
            page = self._ids[start : start + self.PAGE]
            if len(self._cache) > 20 * self.PAGE:  # keep memory flat while scrolling far
                self._cache.clear()
            for found in self._store.get_many(page):
                if found.id is not None:
                    self._cache[found.id] = found
        return self._cache.get(contact_id)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        contact = self.contact(index.row())
        if contact is None:
            return None
        if role == ContactRole:
            return contact
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return "★" if contact.favourite else ""
            if column == 1:
                return contact.name
            if column == 2:
                return contact.company
            primary = contact.primary
            extra = len(contact.numbers) - 1
            if primary is None:
                return ""
            return display_number(primary.number) + (f"  (+{extra})" if extra > 0 else "")
        if role == Qt.ItemDataRole.ToolTipRole and column == 3:
            lines = (f"{n.label}: {display_number(n.number)}" for n in contact.numbers)
            return "\n".join(lines) or None
        if role == Qt.ItemDataRole.AccessibleTextRole and column == 0:
            return "favourite" if contact.favourite else ""
        return None
