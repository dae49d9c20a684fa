"""Details of one call: what was asked of the provider (secrets removed) and what came back."""

from __future__ import annotations

import json
import time
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
)

from dialer.history import CallRecord
from dialer.ui.calls_model import STATUS_TEXT


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


class CallDetailsDialog(QDialog):
    def __init__(self, record: CallRecord, parent: Any = None):
        super().__init__(parent)
        self.setWindowTitle(f"Call to {record.customer}")
        self.record = record
        form = QFormLayout()
        rows = [
            ("Status", STATUS_TEXT.get(record.status, str(record.status))),
            ("Customer", record.customer),
            ("Agent", record.agent or "—"),
            ("Account", f"{record.account} ({record.provider})"),
            ("Bridge / DID", record.bridge or "—"),
            ("Flow", record.flow_id or "—"),
            ("Provider reference", record.provider_ref or "—"),
            ("Local reference", record.id),
            ("Placed", _when(record.created_at)),
            ("Last change", _when(record.updated_at)),
            ("Provider said", record.message or "—"),
            ("Error", record.error or "—"),
        ]
        for label, value in rows:
            field = QLabel(value)
            field.setWordWrap(True)
            field.setAccessibleName(label)
            field.setTextInteractionFlags(field.textInteractionFlags() | _selectable())
            form.addRow(label, field)
        request = QPlainTextEdit(json.dumps(dict(record.request), indent=2, sort_keys=True))
        request.setReadOnly(True)
        request.setAccessibleName("Request sent, secrets removed")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Request sent (secrets removed):"))
        layout.addWidget(request, 1)
        layout.addWidget(buttons)
        self.resize(560, 560)


def _selectable() -> Any:
    from PySide6.QtCore import Qt

    return Qt.TextInteractionFlag.TextSelectableByMouse
