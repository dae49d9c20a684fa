"""Number entry: type or paste anything, see it formatted and whether it can be dialled."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from dialer.core.errors import InvalidNumber
from dialer.core.numbers import PhoneNumber, calling_regions, format_as_you_type, parse_contact
from dialer.ui.theme import show_level


def system_region() -> str | None:
    """The system's country (its locale's territory), or None when it names none (LANG=C)."""
    from PySide6.QtCore import QLocale

    territory = QLocale.system().territory()
    if territory in (QLocale.Country.AnyTerritory, QLocale.Country.World):
        return None
    code = QLocale.territoryToCode(territory)
    return code.upper() if len(code) == 2 else None


class NumberEntry(QWidget):
    """A line edit with live as-you-type formatting, a country picker and a validity line."""

    submitted = Signal()
    changed = Signal()

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Number or tel: link")  # +country code: see the tip
        self.edit.setToolTip(
            "A number as people write it (with +country code for another country), or a tel: link"
        )
        self.edit.setAccessibleName("Number to call")
        self.edit.setClearButtonEnabled(True)
        self.country = QComboBox(self)
        self.country.setAccessibleName("Country for national numbers")
        # First, no country: numbers then need their +country code (the status line says
        # so), rather than the first of the list (Ascension, AC +247) under LANG=C.
        self.country.addItem("No country (+code needed)", None)
        for region, code in calling_regions():
            self.country.addItem(f"{region} +{code}", region)
        self.set_region(None)  # the system's
        self.status = QLabel(self)
        self.status.setAccessibleName("Number status")
        self.status.setWordWrap(True)
        self.allow_sip = False
        row = QHBoxLayout()
        row.addWidget(self.country)
        row.addWidget(self.edit, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.edit.textEdited.connect(self._reformat)
        self.edit.textChanged.connect(self._update_status)
        self.edit.returnPressed.connect(self.submitted)
        self.country.currentIndexChanged.connect(self._update_status)

    @property
    def region(self) -> str | None:
        data = self.country.currentData()
        return str(data) if data else None

    def set_region(self, region: str | None) -> None:
        """The country national numbers are read in: the account's, else the system's."""
        region = region or system_region()
        index = self.country.findData(region) if region else 0
        self.country.setCurrentIndex(max(index, 0))

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)

    def parsed(self) -> PhoneNumber | None:
        try:
            contact = parse_contact(self.text(), self.region, allow_sip=self.allow_sip)
        except InvalidNumber:
            return None
        return contact if isinstance(contact, PhoneNumber) else None

    def _reformat(self, text: str) -> None:
        """Format as the user types; leave URIs and text being edited mid-string alone."""
        if not text or ":" in text or self.edit.cursorPosition() != len(text):
            return
        formatted = format_as_you_type(text, self.region or "ZZ")
        if formatted and formatted != text:
            self.edit.setText(formatted)

    def _update_status(self) -> None:
        text = self.text()
        if not text:
            self.status.setText("")
            self.changed.emit()
            return
        try:
            contact = parse_contact(text, self.region, allow_sip=self.allow_sip)
        except InvalidNumber as exc:
            digits = sum(c.isdigit() for c in text)
            self.status.setText("" if digits < 3 and ":" not in text else f"✗ {exc}")
            show_level(self.status, "error")
        else:
            show_level(self.status, "ok")
            if isinstance(contact, PhoneNumber):
                self.status.setText(f"✓ {contact.e164} ({contact.region or '?'})")
            else:
                self.status.setText(f"✓ SIP address {contact.uri}")
        self.changed.emit()
