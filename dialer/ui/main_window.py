"""The main window: contacts on the left, number and options on the right, history below.

Widgets hold no call logic: every action is a plain coroutine here (``search``,
``call_number``, ``load_bridges``...) that tests await directly; signals only start them
as named tasks. Nothing here blocks the GUI thread: searches and provider requests run on
the loop or on worker threads.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QObject, QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dialer.app.profile import Profile
from dialer.core.accounts import Account
from dialer.core.calls import CallOptions, CallStatus
from dialer.core.contacts import Contact
from dialer.core.errors import CallInProgress, InvalidInput, error_sentence
from dialer.core.flows import MissingVariables
from dialer.core.links import dial_text
from dialer.core.numbers import SipAddress
from dialer.history import CallRecord
from dialer.history.dispositions import DispositionList
from dialer.history.store import TeamSending, TeamState
from dialer.providers.base import BridgeKind
from dialer.ui.call_card import CallCard
from dialer.ui.call_options import CallOptionsPanel
from dialer.ui.contacts_model import ContactsTableModel, display_number, read_first_page
from dialer.ui.fitting import scrolling
from dialer.ui.help import DESCRIBED, AboutDialog, ShortcutsDialog
from dialer.ui.history_panel import HistoryPanel
from dialer.ui.messages import Level, MessageBridge
from dialer.ui.number_entry import NumberEntry
from dialer.ui.tasks import TaskManager
from dialer.ui.theme import show_level
from dialer.ui.welcome import WelcomePanel

logger = logging.getLogger(__name__)

SEARCH_DELAY_MS = 120  # one search per pause in typing, not one per key
# The cause of the receiver's start-up problem, and how often it is tried again.
REPORTING_PROBLEM = "reporting"
REPORTING_RETRY_S = 30.0
_call_tasks = itertools.count(1)  # each call is its own task: a call never cancels another


class CallEvents(QObject):
    """Re-emits the core call service's record updates as a Qt signal."""

    changed = Signal(object)


class TeamEvents(QObject):
    """Re-emits a team history's state changes (told from its sending thread) on the GUI
    thread: a signal emitted on another thread reaches a slot here queued."""

    changed = Signal()


def team_status_text(state: TeamState) -> str:
    """The status line's words for a joined desktop's team history."""
    waiting = f"{state.waiting} call{'s' if state.waiting != 1 else ''}"
    if state.online is None:
        return "Team history: connecting…"
    if not state.online:
        if not state.waiting:
            return "Team history offline: showing this desktop's calls"
        verb = "waits" if state.waiting == 1 else "wait"
        return f"Team history offline: {waiting} {verb} to be sent"
    return f"Team history: sending {waiting}…" if state.waiting else "Team history: up to date"


# What the window's tasks do, for "Something unexpected went wrong while …".
_TASK_DOING = {
    "bridges": "loading the bridges",
    "clicktocalls": "opening the clicktocalls",
    "dialog": "opening the dialog",
    "reporting": "starting the webhook receiver",
    "search": "searching the contacts",
    "warm-up": "getting the window ready",
}


def task_doing(name: str) -> str:
    """The phrase for a window task's name (``call-3``: a call)."""
    if name.startswith("call-"):
        return "placing the call"
    return _TASK_DOING.get(name, f"running the window's '{name}' task")


class MainWindow(QMainWindow):
    def __init__(self, profile: Profile, messages: MessageBridge | None = None):
        super().__init__()
        self.profile = profile
        self.messages = messages or MessageBridge()
        self.tasks = TaskManager(
            on_error=lambda name, exc: self.messages.failure(exc, task_doing(name))
        )
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.setWindowTitle("Dialer" + (" — demo" if profile.demo else ""))
        # Values typed for a flow's per-call variables, by (account, flow, contact id), put
        # back when that contact is selected again (for this window's life), and which of
        # them a selection put in the boxes (contact id, values).
        self._typed_for: dict[tuple[str, str, int], dict[str, str]] = {}
        self._prefilled: tuple[int, dict[str, str]] | None = None
        self._keep_number = False  # the next search's first hit leaves the number alone
        self._matched_for = ""  # the number text the contact under the entry was found for
        self.number_picker: QMenu | None = None  # a contact's numbers, on Enter or right-click
        # (account, customer, contact name) of the call being placed: the card follows it.
        self._placing: tuple[str, str, str] | None = None
        self._calls_in_flight = 0
        self._quiet_selection = False
        self._build()
        self._wire()
        self._menus()
        self._shortcuts()
        self._restore()

    def _build_contacts(self) -> QWidget:
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search contacts: name, company or any digits")
        self.search_edit.setAccessibleName("Search contacts")
        self.search_edit.setClearButtonEnabled(True)
        self.contacts_model = ContactsTableModel(self.profile.contacts, self)
        self.contacts_view = _table(self.contacts_model, "Contacts")
        header = self.contacts_view.horizontalHeader()
        # Fit to the rows on screen only: Qt's default reads the first 1,000 rows' cells for
        # each fitted column, 120-400 ms on the loop for every search that finds thousands.
        header.setResizeContentsPrecision(0)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)  # companies whole
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.search_edit)
        left_layout.addWidget(self.contacts_view)
        return left

    def _build_banner(self) -> None:
        """The one place for a problem (warning, error) until its cause goes; news goes to
        the status bar for a while instead (see dialer.ui.messages)."""
        self.banner = QLabel()
        self.banner.setAccessibleName("Problem")
        self.banner.setWordWrap(True)
        self.banner_close = QPushButton("✕")
        self.banner_close.setAccessibleName("Dismiss the problem")
        self.banner_close.setToolTip("Dismiss")
        self.banner_close.setFlat(True)
        self.banner_row = QWidget()
        banner_layout = QHBoxLayout(self.banner_row)
        banner_layout.setContentsMargins(0, 0, 0, 0)
        banner_layout.addWidget(self.banner, 1)
        banner_layout.addWidget(self.banner_close)
        self.banner_row.setVisible(False)
        self._banner_cause = ""

    def _build(self) -> None:
        profile = self.profile
        left = self._build_contacts()

        # Number, options, call
        self.number = NumberEntry()
        self.options = CallOptionsPanel(profile.service.capabilities)
        self.call_button = QPushButton("Call")
        self.call_button.setAccessibleName("Call")
        self.call_button.setDefault(True)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.number)
        # Who a number from a link or the hotkey belongs to, from the contacts.
        self.match_label = QLabel()
        self.match_label.setAccessibleName("Matching contact")
        self.match_label.setVisible(False)
        right_layout.addWidget(self.match_label)
        right_layout.addWidget(self.call_button)
        self.call_card = CallCard()
        right_layout.addWidget(self.call_card)
        right_layout.addWidget(self.options)
        right_layout.addStretch(1)

        # The call history and the status line
        self.history_panel = HistoryPanel(
            profile.history,
            self.tasks,
            DispositionList.in_folder(profile.paths.config_dir),
            accounts=[account.name for account in profile.accounts.list()],
            messages=self.messages,
            contacts=profile.contacts,
        )
        self.team_status = QLabel()
        self.team_status.setAccessibleName("Team history")
        self._team_online: bool | None = None
        self._build_banner()

        self.top_splitter = top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(left)
        # The call options scroll on a short screen (with the call card shown they are
        # taller than a 600 px laptop leaves them) instead of squeezing the history.
        top.addWidget(scrolling(right))
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        self.main_splitter = main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(self.history_panel)
        main.setStretchFactor(0, 1)
        main.setStretchFactor(1, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        if profile.label:
            demo = QLabel(profile.label)
            demo.setAccessibleName("Profile")
            layout.addWidget(demo)
        layout.addWidget(self.banner_row)
        self.welcome = WelcomePanel()
        self.welcome.setVisible(not profile.accounts.list())
        layout.addWidget(self.welcome)
        layout.addWidget(main, 1)
        self.setCentralWidget(central)
        self.resize(1100, 720)

    def _wire(self) -> None:
        """Signals start coroutines as named tasks; the coroutines do the work."""
        profile = self.profile
        self.events = CallEvents(self)
        self.events.changed.connect(self.history_panel.record_changed)
        self.events.changed.connect(self._call_changed)
        profile.service.add_listener(self.events.changed.emit)
        history = profile.history
        if isinstance(history, TeamSending):
            self.statusBar().addPermanentWidget(self.team_status)
            self.team_events = TeamEvents(self)
            self.team_events.changed.connect(self.team_state_changed)
            # Calls change in bursts: the waiting count is read again at most 4 times a second.
            self._team_timer = QTimer(self, singleShot=True, interval=250)
            self._team_timer.timeout.connect(self.team_state_changed)
            self.events.changed.connect(
                lambda _: self._team_timer.isActive() or self._team_timer.start()
            )
            history.on_state_change(self.team_events.changed.emit)
            self.team_state_changed()
        self.welcome.addAccount.connect(
            lambda: self.tasks.start("dialog", self.edit_accounts(), replace=False)
        )
        self.welcome.tryDemo.connect(self.try_demo)
        self.messages.posted.connect(self._show_message)
        self.messages.cleared.connect(self._clear_message)
        self.banner_close.clicked.connect(self._hide_banner)
        self.search_edit.textChanged.connect(lambda _: self._search_timer.start())
        self._search_timer.timeout.connect(
            lambda: self.tasks.start("search", self.search(self.search_edit.text()))
        )
        self.number.submitted.connect(self._start_number_call)
        self.number.edit.textEdited.connect(lambda _: self.match_label.setVisible(False))
        # A problem with the call is about the number typed: editing it clears it, and the
        # contact named under it is that of the number it was worked out for only.
        self.number.edit.textEdited.connect(lambda _: self.messages.clear(CALL_PROBLEM))
        self.number.edit.textChanged.connect(self._number_changed)
        self.call_button.clicked.connect(self._start_number_call)
        self.contacts_view.activated.connect(lambda _: self._start_contact_call())
        self.contacts_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.contacts_view.customContextMenuRequested.connect(self._contacts_menu)
        self.contacts_view.selectionModel().currentRowChanged.connect(self._contact_selected)
        self.options.accountChanged.connect(self._account_changed)
        self.options.flow_box.currentIndexChanged.connect(
            lambda: self._prefill_values(self.selected_contact())
        )
        self.options.refreshBridges.connect(
            lambda: self.tasks.start("bridges", self.load_bridges(force=True))
        )
        self.options.manageBridges.connect(self._open_clicktocalls)

    def team_state_changed(self) -> None:
        """Say whether the team history is reached and how many calls wait; once it is back,
        read it again (while away, the panel showed this desktop's own calls)."""
        history = self.profile.history
        if not isinstance(history, TeamSending):
            return
        state = history.state()
        self.team_status.setText(team_status_text(state))
        self.team_status.setToolTip(state.problem)
        was, self._team_online = self._team_online, state.online
        if state.online and not was:
            self.history_panel.refresh()
            self.history_panel.start_people()

    # -- start-up and shutdown ---------------------------------------------------------

    async def start(self) -> None:
        """Fill the window; called once the loop runs."""
        self.warm_up = self.tasks.start("warm-up", self._warm_up())
        await self.search(self.search_edit.text())

    async def _warm_up(self) -> None:
        """The HTTP stack and the accounts' number rules, loaded on a worker thread while
        the agent looks at the window, so that the first call or the first invalid number
        does not load them on its loop."""
        from dialer.core.numbers import prepare_regions
        from dialer.providers.base import import_http_stack

        regions = [account.region for account in self.profile.accounts.list()]
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, import_http_stack)
        await loop.run_in_executor(None, prepare_regions, regions)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save()
        if not self.closed.done():
            self.closed.set_result(None)
        event.accept()

    async def shutdown(self) -> None:
        self.profile.service.remove_listener(self.events.changed.emit)
        self.history_panel.close_panel()
        await self.tasks.cancel_all()
        # The profile's stores close next; a window that lingers (deleted later, repainted
        # by a theme change) must not read the contacts from a closed store.
        self.contacts_model.set_ids([])

    def _menus(self) -> None:
        """Menus start dialogs as the single task 'dialog': one dialog at a time."""

        def action(menu: Any, text: str, coro: Any, shortcut: str | None = None) -> None:
            act = menu.addAction(text)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(
                lambda: self.tasks.start("dialog", _prepared(coro), replace=False)
            )

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        action(file_menu, "&Import contacts…", self.import_contacts)
        action(file_menu, "&Export contacts…", self.export_contacts)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(lambda: self.window().close())  # the frame, if held
        contacts = bar.addMenu("&Contacts")
        action(contacts, "&New contact…", self.add_contact, "Ctrl+N")
        action(contacts, "&Edit contact…", self.edit_contact, "F2")
        action(contacts, "&Delete contact", self.delete_contact, "Ctrl+Delete")
        history = bar.addMenu("&History")
        panel = self.history_panel
        action(history, "&Note and disposition…", panel.annotate)
        details = history.addAction("&Details…")
        details.triggered.connect(lambda _=False: panel.show_details())
        recording = history.addAction("Open &recording")
        recording.triggered.connect(lambda _=False: panel.open_recording())
        history.addSeparator()
        action(history, "Export as &CSV…", lambda: panel.export("csv"))
        action(history, "Export as &JSON…", lambda: panel.export("json"))
        history.addSeparator()
        history.addAction(panel.refresh_action)
        self.settings_menu = settings = bar.addMenu("&Settings")
        action(settings, "&Accounts…", self.edit_accounts)
        action(settings, "&Dispositions…", panel.edit_dispositions)
        action(settings, "&Flows and variables…", self.edit_flows)
        action(settings, "&Receiver (C2C v2 webhooks)…", self.edit_receiver_settings)
        help_menu = bar.addMenu("&Help")
        keys = help_menu.addAction("&Keyboard shortcuts…")
        keys.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        keys.triggered.connect(lambda _=False: self.show_shortcuts())
        about = help_menu.addAction("&About Dialer…")
        about.triggered.connect(lambda _=False: self.show_about())

    # -- dialogs ---------------------------------------------------------------------

    def show_shortcuts(self) -> QDialog:
        dialog = ShortcutsDialog(self)
        dialog.open()
        return dialog

    def show_about(self) -> QDialog:
        dialog = AboutDialog(self.profile, self)
        dialog.open()
        return dialog

    async def edit_accounts(self) -> None:
        from dialer.ui.accounts_dialog import edit_accounts

        if await edit_accounts(self, self.profile):
            current = self.options.account()
            accounts = self.profile.accounts.list()
            self.options.set_accounts(accounts, current.name if current else None)
            self.history_panel.set_accounts([a.name for a in accounts])
            self.welcome.setVisible(not accounts)
            if accounts:
                self.messages.clear(CALL_PROBLEM)  # "Add an account first" is answered

    async def edit_receiver_settings(self) -> None:
        from dialer.ui.receiver_settings_dialog import edit_receiver_settings

        note = await edit_receiver_settings(self.profile, self)
        if note:
            self.messages.info(note)

    async def keep_trying_reporting(self, every: float = REPORTING_RETRY_S) -> None:
        """While the C2C v2 receiver could not start (a locked keyring, a port taken), try
        again now and then; once it runs, its problem goes from the banner."""
        while self.profile.reporting_problem:
            await asyncio.sleep(every)
            if await self.profile.start_receiver():
                self.messages.clear(REPORTING_PROBLEM)
                self.messages.info("C2C v2 call reports are received here again")

    def try_demo(self) -> None:
        """The demo, in a window (and process) of its own: this profile stays as it is."""
        from dialer.ui.welcome import launch_demo

        if launch_demo():
            self.messages.info("The demo window is starting: its calls go to a simulator")
        else:
            self.messages.error("The demo could not be started; run 'dialer --demo' instead")

    async def edit_flows(self) -> None:
        from dialer.ui.flow_editor import edit_flows

        account = self.options.account()
        changed = await edit_flows(
            self,
            self.profile,
            account=account.name if account else None,
            contact=self.selected_contact(),
        )
        if changed and account is not None:
            note = self.options.set_flows(self.profile.flows.list(account.name), account.name)
            if note:
                self.messages.warning(note)

    async def add_contact(self) -> None:
        from dialer.ui.contact_dialogs import add_contact

        number, region = self.number.text(), self.number.region
        if await add_contact(self, self.profile, number=number, region=region) is not None:
            await self._contacts_edited()

    async def edit_contact(self) -> None:
        from dialer.ui.contact_dialogs import edit_contact

        contact = self.selected_contact()
        if contact is None:
            self.messages.info("Select a contact to edit")
            return
        if await edit_contact(self, self.profile, contact) is not None:
            await self._contacts_edited()

    async def delete_contact(self) -> None:
        from dialer.ui.contact_dialogs import delete_contact

        contact = self.selected_contact()
        if contact is None:
            self.messages.info("Select a contact to delete")
            return
        if await delete_contact(self, self.profile, contact):
            await self._contacts_edited()

    async def import_contacts(self) -> None:
        from dialer.ui.contact_dialogs import import_contacts

        report = await import_contacts(self, self.profile)
        if report is not None:
            await self._contacts_edited()

    async def _contacts_edited(self) -> None:
        self.history_panel.contacts_changed()  # a customer may now have a name, or another
        await self.search(self.search_edit.text())

    async def export_contacts(self) -> None:
        from dialer.ui.contact_dialogs import export_contacts, exported_sentence

        count = await export_contacts(self, self.profile)
        if count:
            self.messages.info(exported_sentence(count))

    def show_call_details(self, row: int) -> None:
        self.history_panel.show_details(row)  # a dialog owned by the window, not modal

    def _shortcuts(self) -> None:
        def key(
            keys: QKeySequence | str, slot: Any, what: str, field: QWidget | None = None
        ) -> None:
            shortcut = QShortcut(QKeySequence(keys), field or self, slot)
            shortcut.setProperty(DESCRIBED, what)  # for Help > Keyboard shortcuts
            if field is not None:
                shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)

        key("Ctrl+F", self._focus_search, "Search contacts")
        key("Ctrl+K", self._focus_search, "Search contacts")
        key("Ctrl+L", self.number.edit.setFocus, "Type a number")
        # Escape belongs to the field it is pressed in (a window-wide Escape cleared the
        # search, and so the number, from a history filter or a closing popup).
        escape = QKeySequence(Qt.Key.Key_Escape)
        key(escape, self._clear_search, "Clear the search (in the search)", self.search_edit)
        key(escape, self.number.edit.clear, "Clear the number (in the number)", self.number.edit)
        down = QKeySequence(Qt.Key.Key_Down)
        key(down, self._into_results, "Into the contacts found (in the search)", self.search_edit)
        self.search_edit.returnPressed.connect(self._start_contact_call)
        # The order Tab walks, as the window reads: search, contacts, number, call, options,
        # then the history (the country box sits left of the number: it comes first).
        order = [
            self.search_edit,
            self.contacts_view,
            self.number.country,
            self.number.edit,
            self.call_button,
            self.options.account_box,
        ]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)

    def _focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def _clear_search(self) -> None:
        """Escape in the search: the search goes, the number typed stays."""
        self._keep_number = True
        self.search_edit.clear()

    def _into_results(self) -> None:
        """Down in the search: into the results, on the row the search selected."""
        self.contacts_view.setFocus()
        if not self.contacts_view.currentIndex().isValid() and self.contacts_model.rowCount():
            self.contacts_view.selectRow(0)

    # -- settings ------------------------------------------------------------------------

    def _settings(self) -> QSettings:
        return QSettings(
            str(self.profile.paths.config_dir / "window.ini"), QSettings.Format.IniFormat
        )

    def _restore(self) -> None:
        settings = self._settings()
        geometry = settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        for key, splitter in (("top", self.top_splitter), ("main", self.main_splitter)):
            state = settings.value(f"splitter/{key}")
            if state is not None:
                splitter.restoreState(state)
        accounts = self.profile.accounts.list()
        last = settings.value("account")
        self.options.set_accounts(accounts, str(last) if last else None)

    def _save(self) -> None:
        settings = self._settings()
        settings.setValue("geometry", self.window().saveGeometry())  # the frame's, if held
        settings.setValue("splitter/top", self.top_splitter.saveState())
        settings.setValue("splitter/main", self.main_splitter.saveState())
        account = self.options.account()
        if account is not None:
            settings.setValue("account", account.name)
            bridge = self.options.bridge_box.currentData()
            if bridge:
                settings.setValue(f"bridge/{account.name}", str(bridge))
        settings.sync()

    def _last_bridge(self, account: str) -> str | None:
        value = self._settings().value(f"bridge/{account}")
        return str(value) if value else None

    # -- contacts ------------------------------------------------------------------------

    async def search(self, text: str) -> None:
        """Search off the GUI thread; a newer search cancels this one (task 'search')."""
        loop = asyncio.get_running_loop()
        ids, first_page = await loop.run_in_executor(None, self._search_contacts, text)
        self.contacts_model.set_ids(ids, first_page)
        keep, self._keep_number = self._keep_number, False
        if ids:
            # The first hit is selected (Enter calls it) and fills the number, but not after
            # Escape cleared the search: the number then stays as it was.
            self._quiet_selection = keep
            try:
                self.contacts_view.selectRow(0)
            finally:
                self._quiet_selection = False

    def _search_contacts(self, text: str) -> tuple[list[int], list[Contact]]:
        """A worker thread's part of a search: the ids, and the first page to show."""
        ids = self.profile.contacts.search_ids(text)
        return ids, read_first_page(self.profile.contacts, ids)

    def selected_contact(self) -> Contact | None:
        index = self.contacts_view.currentIndex()
        return self.contacts_model.contact(index.row()) if index.isValid() else None

    def _contact_selected(self) -> None:
        contact = self.selected_contact()
        if (
            contact is not None
            and contact.primary is not None
            and not self.number.edit.hasFocus()
            and not self._quiet_selection
        ):
            self.number.set_text(display_number(contact.primary.number))
        self._prefill_values(contact)

    def _prefill_values(self, contact: Contact | None) -> None:
        """Put what was typed for the selected contact's last flow call back in the boxes,
        replacing what an earlier selection put there (never what was typed since)."""
        previous = self._prefilled
        self._prefilled = None
        if previous is not None:
            for name, edit in self.options.value_edits.items():
                if edit.text() == previous[1].get(name):
                    edit.clear()
        account, flow = self.options.account(), self.options.chosen_flow()
        if contact is None or contact.id is None or account is None or flow is None:
            return
        remembered = self._typed_for.get((account.name, flow.flow_id, contact.id))
        if remembered:
            self.options.fill_values(remembered)
            self._prefilled = (contact.id, dict(remembered))

    def _focus_value(self, names: tuple[str, ...]) -> None:
        """Put the cursor in the first box of a variable still to be typed."""
        for name in names:
            edit = self.options.value_edits.get(name)
            if edit is not None:
                edit.setFocus()
                return

    def _per_call_values(self, contact: Contact | None) -> dict[str, str]:
        """What is typed for this call. A value put there for another contact than the one
        called is not this call's (a customer never hears another's order number): it is
        cleared, and asked for."""
        values = self.options.per_call_values()
        prefilled = self._prefilled
        if prefilled is not None and (contact is None or contact.id != prefilled[0]):
            for name, value in prefilled[1].items():
                if values.get(name) == value:
                    values[name] = ""
                    self.options.value_edits[name].clear()
            self._prefilled = None
        return values

    # -- accounts and bridges ------------------------------------------------------------

    def _account_changed(self) -> None:
        account = self.options.account()
        if account is None:
            return
        self.number.set_region(account.region)
        caps = self.options.capabilities()
        self.number.allow_sip = bool(caps and caps.sip_contacts)
        note = self.options.set_flows(self.profile.flows.list(account.name), account.name)
        if note:
            self.messages.warning(note)
        self.tasks.start("bridges", self.load_bridges())

    async def load_bridges(self, *, force: bool = False) -> None:
        """The account's bridges; Kazoo's are listed from the server (spinner, error state)."""
        account = self.options.account()
        caps = self.options.capabilities()
        if account is None or caps is None:
            return
        if caps.bridge is BridgeKind.CLICKTOCALL or force:
            self.options.set_bridge_loading()  # asked of the server: it may take a while
        try:
            bridges = await self.profile.service.list_bridges(account)
        except Exception as exc:
            self.options.set_bridge_error(error_sentence(exc, "listing the bridges"))
            raise
        self.options.set_bridges(bridges, self._last_bridge(account.name))
        if caps.bridge is BridgeKind.CLICKTOCALL and not any(bridge.id for bridge in bridges):
            self.options.bridge_state.setText(
                "No clicktocall yet: one is created for your number on the first call"
            )

    def _open_clicktocalls(self) -> None:
        if not self.tasks.running("clicktocalls"):  # one dialog, however often it is asked
            self.tasks.start("clicktocalls", self.manage_clicktocalls(), replace=False)

    async def manage_clicktocalls(self) -> None:
        """The account's clicktocalls (Kazoo), then the picker lists them again."""
        from dialer.ui.kazoo_dialog import manage_clicktocalls

        account = self.options.account()
        if account is None:
            return
        if await manage_clicktocalls(self, self.profile, account):
            await self.load_bridges(force=True)

    # -- numbers from outside: links, other launches, the hotkey --------------------------

    def dial_from_outside(self, raw: str, *, at_once: bool = False) -> None:
        """A ``tel:``/``callto:``/``sip:`` link or a number from another launch or the
        hotkey: fill the number entry, say whose number it is, and bring the window up with
        the entry focused so Enter places the call (at once when the user chose that)."""
        from dialer.ui.tray import bring_to_front

        bring_to_front(self.window())  # the frame, if held
        try:
            text = dial_text(raw)
        except InvalidInput as exc:
            self.messages.error(str(exc))
            return
        self.number.set_text(text)
        self._show_match(text)
        self.number.edit.setFocus()
        if at_once:
            self._start_number_call()
        else:
            self.messages.info(f"Press Enter to call {text}")

    def _number_changed(self, text: str) -> None:
        if text != self._matched_for:
            self.match_label.setVisible(False)

    def _show_match(self, text: str) -> None:
        self._matched_for = self.number.edit.text()
        account = self.options.account()
        try:
            number = self.profile.service.parse_number(text, account)
        except InvalidInput:
            self.match_label.setVisible(False)  # the entry's own line says what is wrong
            return
        found = (
            []
            if isinstance(number, SipAddress)
            else self.profile.contacts.find_by_number(number.e164)
        )
        if found:
            names = ", ".join(
                contact.name + (f" ({contact.company})" if contact.company else "")
                for contact in found[:3]
            )
            self.match_label.setText(f"{names}")
        else:
            self.match_label.setText("Not in your contacts")
        self.match_label.setVisible(True)

    # -- calls ---------------------------------------------------------------------------

    def _start_number_call(self) -> None:
        self.tasks.start(f"call-{next(_call_tasks)}", self.call_number(self.number.text()))

    def _start_contact_call(self) -> None:
        """Enter on a contact: its number, or with several a picker of them (arrows and
        Enter choose, Escape calls none)."""
        contact = self.selected_contact()
        if contact is None or contact.primary is None:
            self.messages.warning("This contact has no number to call", CALL_PROBLEM)
            return
        if len(contact.numbers) == 1:
            self._call_contact_number(contact, contact.primary.number)
            return
        rect = self.contacts_view.visualRect(self.contacts_view.currentIndex())
        self.number_picker = self._numbers_menu(contact)
        self.number_picker.popup(self.contacts_view.viewport().mapToGlobal(rect.bottomLeft()))
        self.number_picker.setActiveAction(self.number_picker.actions()[0])

    def _numbers_menu(self, contact: Contact) -> QMenu:
        """One "Call" entry per number of the contact (Enter's picker, the context menu)."""
        menu = QMenu(self)
        menu.setAccessibleName(f"Numbers of {contact.name}")
        for entry in contact.numbers:
            action = menu.addAction(f"Call {entry.label}: {display_number(entry.number)}")
            action.triggered.connect(
                lambda _=False, n=entry.number: self._call_contact_number(contact, n)
            )
        return menu

    def _contacts_menu(self, position: QPoint) -> None:
        index = self.contacts_view.indexAt(position)
        contact = self.contacts_model.contact(index.row()) if index.isValid() else None
        if contact is None or not contact.numbers:
            return
        self.contacts_view.setCurrentIndex(index)
        self.number_picker = self._numbers_menu(contact)
        self.number_picker.popup(self.contacts_view.viewport().mapToGlobal(position))

    def _call_contact_number(self, contact: Contact, number: str) -> None:
        self.number.set_text(number)
        self.tasks.start(f"call-{next(_call_tasks)}", self.call_number(number, contact))

    async def call_number(self, text: str, contact: Contact | None = None) -> CallRecord | None:
        """Place a call to ``text`` with the chosen options; errors become one message.

        ``contact``: whom the number belongs to, when the call started from a contact;
        otherwise the contact whose number it is, if exactly one. Flow variables bound to
        contact fields come from that contact, never from whichever row is selected."""
        account = self.options.account()
        if account is None:
            self.welcome.setVisible(True)
            self.messages.error(
                "Add an account first: no account is configured (Add an account… above)",
                CALL_PROBLEM,
            )
            return None
        service = self.profile.service
        options = self.options.options()
        per_call: dict[str, str] = {}
        try:
            target = service.parse_number(text, account)
            if contact is None and not isinstance(target, SipAddress):
                found = self.profile.contacts.find_by_number(target.e164)
                contact = found[0] if len(found) == 1 else None
            if self.options.flow_mode:
                options, per_call = self._flow_options(options, account, contact)
        except InvalidInput as exc:
            self.messages.error(str(exc), CALL_PROBLEM)
            if isinstance(exc, MissingVariables):
                self._focus_value(exc.names)
            return None
        self._placing = (account.name, str(target), contact.name if contact else "")
        self._busy_call(True)
        try:
            record = await service.place_call(text, options, account=account.name)
        except CallInProgress as exc:
            self.messages.info(str(exc))
            return None
        except Exception as exc:
            self.messages.failure(exc, "placing the call", CALL_PROBLEM)
            return None
        finally:
            self._placing = None
            self._busy_call(False)
        # The provider's words, or what it did for the call (a clicktocall it made).
        said = f": {record.message}" if record.message else ""
        self.messages.info(
            f"Call to {record.customer} accepted by {account.name}{said}", CALL_PROBLEM
        )
        if options.flow is not None and contact is not None and contact.id is not None:
            typed = {name: value for name, value in per_call.items() if value.strip()}
            if typed:
                # Remembered for this contact, and from now on what the boxes show is that
                # contact's: calling anyone else with it asks again.
                self._typed_for[(account.name, options.flow, contact.id)] = typed
                self._prefilled = (contact.id, typed)
        return record

    def _busy_call(self, busy: bool) -> None:
        """The Call button while a request is with the provider (a slow one takes seconds)."""
        self._calls_in_flight += 1 if busy else -1
        placing = self._calls_in_flight > 0
        self.call_button.setText("Placing…" if placing else "Call")
        self.call_button.setEnabled(not placing)

    def _call_changed(self, record: CallRecord) -> None:
        """The call card follows the call this window is placing, from its first step."""
        placing = self._placing
        if (
            placing is not None
            and record.status is CallStatus.PLACING
            and (record.account, record.customer) == placing[:2]
        ):
            caps = self.options.capabilities()
            first = bool(caps and caps.customer_rings_first)
            self.call_card.follow(record, who=placing[2], customer_first=first)
            return
        self.call_card.update_record(record)

    def _flow_options(
        self, options: CallOptions, account: Account, contact: Contact | None
    ) -> tuple[CallOptions, dict[str, str]]:
        """The options with the chosen flow and its variables for a call to ``contact``
        (None: the number is no contact), and what was typed for this call. Raises
        InvalidInput."""
        flow_id = self.options.flow_id()
        if flow_id is None:
            raise InvalidInput("Choose an IVR flow for this account first")
        flow = self.profile.flows.get(account.name, flow_id)
        per_call = self._per_call_values(contact)
        variables = self.profile.service.flow_variables(flow, contact, per_call)
        return dataclasses.replace(options, flow=flow.flow_id, variables=variables), per_call

    # -- messages ------------------------------------------------------------------------

    def _show_message(self, level: str, text: str, cause: str = "") -> None:
        if level == Level.INFO:
            self.statusBar().showMessage(text, NEWS_MS)
            if cause and cause == self._banner_cause:
                self._hide_banner()  # the news of the same cause: the problem is over
            return
        icon = "✗" if level == Level.ERROR else "⚠"
        self.banner.setText(f"{icon} {text}")
        show_level(self.banner, level)
        self._banner_cause = cause
        self.banner_row.setVisible(True)
        self.statusBar().clearMessage()  # not the same thing twice

    def _clear_message(self, cause: str) -> None:
        if cause and cause == self._banner_cause:
            self._hide_banner()

    def _hide_banner(self) -> None:
        self.banner_row.setVisible(False)
        self.banner.clear()
        self._banner_cause = ""


# How long a piece of news stays in the status bar.
NEWS_MS = 8000
# The cause of a problem with placing a call (see MessageBridge): the number edited, or
# the next call accepted, takes it away.
CALL_PROBLEM = "call"


def _table(model: Any, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(24)
    view.setAlternatingRowColors(True)
    view.setTabKeyNavigation(False)  # Tab moves to the next area, arrows move in the table
    return view


async def _prepared(dialog: Callable[[], Awaitable[object]]) -> None:
    """A menu's dialog, once the widget types it needs are ready (see prepare_widget_types)."""
    from dialer.ui.dialogs import prepare_widget_types

    await prepare_widget_types()
    await dialog()
