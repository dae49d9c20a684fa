"""One call up close, and the supervisor's notes on it.

- :class:`CallDetailsDialog`: the record's fields, the request sent (secrets were removed
  before it was stored), the provider's reference, the status timeline, the provider's
  reports exactly as received, and the error; a call the provider cannot report on says so.
- :func:`annotate_call`: the note and disposition of a call, saved to the history.
- :func:`edit_dispositions`: the list of dispositions offered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dialer.core.calls import CallStatus
from dialer.core.errors import DialerError, InvalidInput
from dialer.core.times import format_duration
from dialer.history import CallRecord, HistoryStore, StoredReport, TimelineEntry
from dialer.history.dispositions import MAX_LENGTH, DispositionList, clean_dispositions
from dialer.ui.contact_dialogs import WorkDialog, run_until_done
from dialer.ui.fitting import resize_within_screen, scrolling
from dialer.ui.history_model import (
    NO_REPORT_EXPLAINED,
    format_when,
    status_text,
)


def _when(timestamp: float | None) -> str:
    return format_when(timestamp) if timestamp is not None else "—"


def _answered(value: bool | None) -> str:
    return {True: "Yes", False: "No", None: "Not reported"}[value]


def _pretty(body: str) -> str:
    """A report body as received, indented when it is JSON (it is stored verbatim)."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


class CallDetailsDialog(QDialog):
    """Everything known about one call. With ``history`` the timeline and the raw reports
    are read from it, and the record shown is the one stored now."""

    def __init__(
        self, record: CallRecord, parent: Any = None, *, history: HistoryStore | None = None
    ):
        super().__init__(parent)
        self.history = history
        self.record = record
        layout = QVBoxLayout(self)
        self.explanation = QLabel(NO_REPORT_EXPLAINED)
        self.explanation.setWordWrap(True)
        self.explanation.setAccessibleName("About this status")
        layout.addWidget(self.explanation)
        fields = QWidget()
        form = QFormLayout(fields)
        form.setContentsMargins(0, 0, 0, 0)
        self.fields: dict[str, QLabel] = {}
        for label, _ in self._fields(record):
            field = QLabel()
            field.setWordWrap(True)
            field.setAccessibleName(label)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            field.setTextFormat(Qt.TextFormat.PlainText)  # provider text is never markup
            form.addRow(label, field)
            self.fields[label] = field
        # The fields scroll on a short screen; the tabs below keep their room.
        layout.addWidget(scrolling(fields), 1)

        self.tabs = QTabWidget()
        self.request_text = QPlainTextEdit()
        self.request_text.setReadOnly(True)
        self.request_text.setAccessibleName("Request sent, secrets removed")
        self.tabs.addTab(self.request_text, "Request sent (secrets removed)")
        self.timeline_view = QTreeWidget()
        self.timeline_view.setAccessibleName("Status timeline")
        self.timeline_view.setHeaderLabels(["When", "Status", "Source", "Detail"])
        self.timeline_view.setRootIsDecorated(False)
        self.tabs.addTab(self.timeline_view, "Timeline")
        self.reports_text = QPlainTextEdit()
        self.reports_text.setReadOnly(True)
        self.reports_text.setAccessibleName("Provider reports as received")
        self.tabs.addTab(self.reports_text, "Provider reports")
        layout.addWidget(self.tabs, 1)
        self.refresh(record)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        resize_within_screen(self, 640, 680)

    def refresh(self, record: CallRecord | None = None) -> None:
        """Show the call as stored now (its record, timeline and reports): the panel calls
        this on every change of the call, so open details follow it live."""
        timeline: list[TimelineEntry] = []
        reports: list[StoredReport] = []
        record = record or self.record
        if self.history is not None:
            record = self.history.get(record.id) or record
            timeline = self.history.timeline(record.id)
            reports = self.history.reports(record.id)
        self.record = record
        self.setWindowTitle(f"Call to {record.customer}")
        self.explanation.setVisible(record.status is CallStatus.NO_REPORT)
        for label, value in self._fields(record):
            self.fields[label].setText(value)
        self.request_text.setPlainText(json.dumps(dict(record.request), indent=2, sort_keys=True))
        self.timeline_view.clear()
        for entry in timeline:
            self.timeline_view.addTopLevelItem(
                QTreeWidgetItem(
                    [format_when(entry.at), status_text(entry.status), entry.source, entry.detail]
                )
            )
        for column in range(self.timeline_view.columnCount()):
            self.timeline_view.resizeColumnToContents(column)
        self.tabs.setTabText(1, f"Timeline ({len(timeline)})")
        self.reports_text.setPlainText(
            "\n\n".join(
                f"— {format_when(report.received_at)}, {report.source} —\n{_pretty(report.body)}"
                for report in reports
            )
            or "No report from the provider has been received for this call."
        )
        self.tabs.setTabText(2, f"Provider reports ({len(reports)})")

    @staticmethod
    def _fields(record: CallRecord) -> list[tuple[str, str]]:
        billed = format_duration(record.billed_seconds) or "—"
        charge = f"{record.charge:g} credit" if record.charge is not None else "—"
        return [
            ("Status", status_text(record.status)),
            ("Customer", record.customer),
            ("Agent", record.agent or "—"),
            ("Account", f"{record.account} ({record.provider})"),
            ("Bridge / DID", record.bridge or "—"),
            ("Flow", record.flow_id or "—"),
            ("Placed from", "this app" if record.origin == "app" else "outside the app"),
            ("Provider reference", record.provider_ref or "—"),
            ("Local reference", record.id),
            ("Placed", _when(record.created_at)),
            ("Last change", _when(record.updated_at)),
            ("Answered", _answered(record.answered)),
            ("Started / ended", f"{_when(record.started_at)} / {_when(record.ended_at)}"),
            ("Agent leg", format_duration(record.agent_seconds) or "—"),
            ("Talk time", format_duration(record.talk_seconds) or "—"),
            ("Billed", billed),
            ("Charge", charge),
            ("Hung up by", record.hangup_by or "—"),
            ("Provider's outcome", record.cause or "—"),
            ("Recording", record.recording_url or "—"),
            ("Provider said", record.message or "—"),
            ("Error", record.error or "—"),
            ("Disposition", record.disposition or "—"),
            ("Note", record.note or "—"),
        ]


# -- note and disposition ----------------------------------------------------------------------


class AnnotateDialog(WorkDialog):
    """The note and disposition of one call. Enter (Ctrl+Enter in the note) saves."""

    def __init__(self, parent: QWidget | None, record: CallRecord, dispositions: Sequence[str]):
        super().__init__(parent, f"Note and disposition — call to {record.customer}", "Save")
        self.record = record
        self.disposition_box = QComboBox()
        self.disposition_box.setEditable(True)
        self.disposition_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.disposition_box.setAccessibleName("Disposition")
        choices = ["", *dispositions]
        if record.disposition and record.disposition not in choices:
            choices.append(record.disposition)  # kept even when no longer on the list
        self.disposition_box.addItems(choices)
        self.disposition_box.setCurrentText(record.disposition)
        self.note_edit = QPlainTextEdit(record.note)
        self.note_edit.setAccessibleName("Note")
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setPlaceholderText("What the supervisor wants to remember about this call")
        form = QFormLayout()
        disposition_label = QLabel("&Disposition")
        disposition_label.setBuddy(self.disposition_box)
        note_label = QLabel("&Note")
        note_label.setBuddy(self.note_edit)
        form.addRow(disposition_label, self.disposition_box)
        form.addRow(note_label, self.note_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{record.customer} · {status_text(record.status)}"))
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.accept)
        self.disposition_box.editTextChanged.connect(lambda _: self.refresh())
        self.resize(460, 280)

    def disposition(self) -> str:
        return " ".join(self.disposition_box.currentText().split())

    def note(self) -> str:
        return self.note_edit.toPlainText().strip()

    def problem(self) -> str | None:
        if len(self.disposition()) > MAX_LENGTH:
            return f"A disposition has at most {MAX_LENGTH} characters"
        return None


async def annotate_call(
    parent: QWidget | None, history: HistoryStore, record: CallRecord, dispositions: Sequence[str]
) -> CallRecord | None:
    """Ask for the call's note and disposition and store them; the stored record, or None
    when the user cancels. A failure to store is shown in the dialog, which stays open."""
    dialog = AnnotateDialog(parent, record, dispositions)

    async def save() -> CallRecord:
        try:
            return await history.annotate(
                record.id, note=dialog.note(), disposition=dialog.disposition()
            )
        except KeyError:
            raise InvalidInput("This call is no longer in the history") from None

    return await run_until_done(dialog, save, "saving the note")


# -- the list of dispositions --------------------------------------------------------------


class DispositionsDialog(WorkDialog):
    """The dispositions offered for calls, one a line."""

    def __init__(self, parent: QWidget | None, names: Sequence[str], problem: str = ""):
        super().__init__(parent, "Dispositions", "Save")
        self.names_edit = QPlainTextEdit("\n".join(names))
        self.names_edit.setAccessibleName("Dispositions, one a line")
        self.names_edit.setTabChangesFocus(True)
        label = QLabel("&Dispositions offered for calls, one a line:")
        label.setBuddy(self.names_edit)
        self.defaults_button = QPushButton("Restore &defaults")
        self.defaults_button.setAccessibleName("Restore defaults")
        self.buttons.addButton(self.defaults_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.defaults_button.clicked.connect(self._restore_defaults)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.names_edit, 1)
        layout.addWidget(
            QLabel("Calls keep the disposition they were given when the list changes.")
        )
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.accept)
        self.names_edit.textChanged.connect(self.refresh)
        self.show_error(problem)
        self.resize(380, 360)

    def names(self) -> list[str]:
        return self.names_edit.toPlainText().splitlines()

    def problem(self) -> str | None:
        try:
            clean_dispositions(self.names())
        except InvalidInput as exc:
            return str(exc)
        return None

    def _restore_defaults(self) -> None:
        from dialer.history.dispositions import DEFAULT_DISPOSITIONS

        self.names_edit.setPlainText("\n".join(DEFAULT_DISPOSITIONS))


async def edit_dispositions(
    parent: QWidget | None, dispositions: DispositionList
) -> list[str] | None:
    """Edit and save the list; the saved list, or None when the user cancels."""
    problem = ""
    try:
        names = dispositions.load()
    except DialerError as exc:  # a damaged file: start from the defaults, say so
        from dialer.history.dispositions import DEFAULT_DISPOSITIONS

        names = list(DEFAULT_DISPOSITIONS)
        problem = f"{exc}; saving replaces it"
    dialog = DispositionsDialog(parent, names, problem)
    loop = asyncio.get_running_loop()

    async def save() -> list[str]:
        return await loop.run_in_executor(None, dispositions.save, dialog.names())

    return await run_until_done(dialog, save, "saving the dispositions")
