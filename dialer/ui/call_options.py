"""Call options: account, bridge/DID, mode, flow, record, limit, redials, and the options
only one provider has (Click2Call v1's hold file, DigiDonar's campaign id).

Whatever the chosen provider cannot do is disabled with a tooltip that says why
(:func:`dialer.providers.base.unsupported_reason`), never silently ignored. A provider's own
option is shown only for accounts of that provider: on every other it would only ever be
disabled, a row of grey for most accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from dialer.core.accounts import Account
from dialer.core.calls import MAX_CALL_SECONDS, CallOptions
from dialer.core.flows import FlowDefinition, asked_per_call
from dialer.providers import provider_label
from dialer.providers.base import (
    Bridge,
    BridgeKind,
    Capabilities,
    bridge_noun,
    unsupported_reason,
)
from dialer.ui.spinner import Spinner
from dialer.ui.theme import show_level

AGENT_FIRST, FLOW = "agent", "flow"


class CallOptionsPanel(QWidget):
    accountChanged = Signal()
    refreshBridges = Signal()
    manageBridges = Signal()  # the account's clicktocalls, to create, edit or delete

    def __init__(self, capabilities: Callable[[Account], Capabilities], parent: Any = None):
        super().__init__(parent)
        # the service says what an account's provider can do; the panel only shows it
        self._capabilities_of = capabilities
        self.account_box = QComboBox(self)
        self.account_box.setAccessibleName("Account to call with")
        self._build_bridge_picker()
        self.mode_box = QComboBox(self)
        self.mode_box.setAccessibleName("Call mode")
        self.mode_box.addItem("Ring me, then the customer", AGENT_FIRST)
        self.mode_box.addItem("Ring the customer into an IVR flow", FLOW)
        self.flow_box = QComboBox(self)
        self.flow_box.setAccessibleName("IVR flow")
        # The chosen flow's variables that are typed for each call (no fixed value, no
        # contact field): one box each, under the flow.
        self.values_box = QWidget(self)
        self.values_box.setAccessibleName("Values for this call")
        self.values_form = QFormLayout(self.values_box)
        self.values_form.setContentsMargins(0, 0, 0, 0)
        self.value_edits: dict[str, QLineEdit] = {}
        self._flows: dict[str, FlowDefinition] = {}
        self._flows_account: str | None = None
        self.record_box = QCheckBox("Record the call", self)
        self.record_box.setAccessibleName("Record the call")
        self.limit_box = QSpinBox(self)
        self.limit_box.setAccessibleName("Maximum call length in seconds")
        self.limit_box.setRange(0, MAX_CALL_SECONDS)
        self.limit_box.setSpecialValueText("No limit")
        self.limit_box.setSuffix(" s")
        self.attempts_box = QComboBox(self)
        self.attempts_box.setAccessibleName("Redial attempts")
        self.attempts_box.addItem("Provider default", None)
        for n in (0, 1, 2):
            self.attempts_box.addItem(str(n), n)
        self.holdfile_edit = QLineEdit(self)
        self.holdfile_edit.setAccessibleName("Hold file for this call")
        self.campid_edit = QLineEdit(self)
        self.campid_edit.setAccessibleName("Campaign id for this call")
        self._lay_out()
        self._accounts: list[Account] = []
        self.account_box.currentIndexChanged.connect(self._account_changed)
        self.mode_box.currentIndexChanged.connect(self._apply_capabilities)
        self.flow_box.currentIndexChanged.connect(self._show_flow_values)
        self.bridge_refresh.clicked.connect(self.refreshBridges)
        self.bridge_manage.clicked.connect(self.manageBridges)

    def _build_bridge_picker(self) -> None:
        self.bridge_box = QComboBox(self)
        self.bridge_box.setAccessibleName("Bridge or caller ID")
        self.bridge_refresh = QPushButton("↻", self)
        self.bridge_refresh.setAccessibleName("Reload bridges from the provider")
        self.bridge_refresh.setToolTip("Reload the list from the provider")
        self.bridge_manage = QPushButton("Manage…", self)
        self.bridge_manage.setAccessibleName("Manage the account's clicktocalls")
        self.bridge_manage.setToolTip("Create, edit or delete this account's clicktocalls")
        self.bridge_state = QLabel(self)
        self.bridge_state.setAccessibleName("Bridge list status")
        self.bridge_spinner = Spinner(self)
        self.bridge_spinner.setAccessibleName("Loading bridges")

    def _lay_out(self) -> None:
        bridge_row = QHBoxLayout()
        bridge_row.addWidget(self.bridge_box, 1)
        bridge_row.addWidget(self.bridge_refresh)
        bridge_row.addWidget(self.bridge_manage)
        form = QFormLayout(self)
        form.addRow("Account", self.account_box)
        form.addRow("Bridge / DID", bridge_row)
        state_row = QHBoxLayout()
        state_row.addWidget(self.bridge_spinner)
        state_row.addWidget(self.bridge_state, 1)
        form.addRow("", state_row)
        form.addRow("Mode", self.mode_box)
        form.addRow("Flow", self.flow_box)
        form.addRow("", self.values_box)
        form.addRow("", self.record_box)
        form.addRow("Max length", self.limit_box)
        form.addRow("Redials", self.attempts_box)
        form.addRow("Hold file", self.holdfile_edit)
        form.addRow("Campaign", self.campid_edit)
        self.form = form

    # -- accounts and bridges -----------------------------------------------------------

    def set_accounts(self, accounts: list[Account], current: str | None = None) -> None:
        self._accounts = accounts
        self.account_box.blockSignals(True)
        self.account_box.clear()
        for account in accounts:
            label = f"{account.name} ({account.provider})"
            self.account_box.addItem(label, account.name)
        index = self.account_box.findData(current) if current else 0
        self.account_box.setCurrentIndex(max(index, 0))
        self.account_box.blockSignals(False)
        self._account_changed()

    def account(self) -> Account | None:
        name = self.account_box.currentData()
        return next((a for a in self._accounts if a.name == name), None)

    def capabilities(self) -> Capabilities | None:
        account = self.account()
        return self._capabilities_of(account) if account else None

    def set_bridges(self, bridges: list[Bridge], current: str | None = None) -> None:
        self.bridge_spinner.stop()
        show_level(self.bridge_state, "info")
        self.bridge_box.clear()
        for bridge in bridges:
            self.bridge_box.addItem(bridge.label, bridge.id)
        if current is not None and (index := self.bridge_box.findData(current)) >= 0:
            self.bridge_box.setCurrentIndex(index)
        caps = self.capabilities()
        if bridges or (caps is not None and caps.bridge is BridgeKind.NONE):
            self.bridge_state.setText("")
        elif caps is not None and caps.bridge is BridgeKind.CLICKTOCALL:
            # Not a fault: the first call makes one that rings the agent.
            self.bridge_state.setText(
                "No clicktocalls yet: the first call makes one for the agent's number, or "
                "create one with Manage…"
            )
        else:
            account = self.account()
            noun = bridge_noun(account.provider if account else "", plural=True)
            self.bridge_state.setText(
                f"No {noun} set for this account: add them under Settings ▸ Accounts…"
            )

    def set_bridge_loading(self) -> None:
        self.bridge_box.clear()
        show_level(self.bridge_state, "info")
        self.bridge_state.setText("Loading from the provider…")
        self.bridge_spinner.start()

    def set_bridge_error(self, text: str) -> None:
        self.bridge_spinner.stop()
        show_level(self.bridge_state, "error")
        self.bridge_state.setText(f"✗ {text}")

    def set_flows(self, flows: list[FlowDefinition], account: str | None = None) -> str | None:
        """Offer ``flows`` (``account``'s). The flow chosen stays chosen when it is still
        there (the flow editor saved, the accounts were edited); when it is gone, the
        sentence saying so is returned, for the window to show."""
        same_account = account == self._flows_account
        chosen = self.flow_box.currentData() if same_account else None
        gone = self._flows.get(str(chosen)) if chosen is not None else None
        self._flows = {flow.flow_id: flow for flow in flows}
        self._flows_account = account
        self.flow_box.blockSignals(True)
        self.flow_box.clear()
        for flow in flows:
            self.flow_box.addItem(f"{flow.name} ({flow.flow_id})", flow.flow_id)
        index = self.flow_box.findData(chosen) if chosen is not None else -1
        self.flow_box.setCurrentIndex(index if index >= 0 else 0 if flows else -1)
        self.flow_box.blockSignals(False)
        self._show_flow_values()
        self._apply_capabilities()
        if gone is None or index >= 0:
            return None
        now = self._flows.get(str(self.flow_box.currentData()))
        return f"Flow {gone.label} is no longer configured" + (
            f"; the next flow call uses {now.label}" if now else ""
        )

    def chosen_flow(self) -> FlowDefinition | None:
        return self._flows.get(str(self.flow_box.currentData()))

    def _show_flow_values(self) -> None:
        """One box per variable of the chosen flow that is typed for each call; what was
        typed into a box of the same name stays (a flow chosen again, a reload)."""
        flow = self.chosen_flow()
        asked = asked_per_call(flow) if flow is not None else ()
        kept = {name: edit.text() for name, edit in self.value_edits.items()}
        while self.values_form.rowCount():
            self.values_form.removeRow(0)
        self.value_edits = {}
        for name in asked:
            edit = QLineEdit(self.values_box)
            edit.setAccessibleName(f"{name}, typed for this call")
            edit.setPlaceholderText(f"{{{name}}} for this call")
            edit.setText(kept.get(name, ""))
            self.values_form.addRow(name, edit)
            self.value_edits[name] = edit
        self.values_box.setVisible(bool(asked) and self.flow_mode)

    def per_call_values(self) -> dict[str, str]:
        """What is typed for this call, by variable (only the chosen flow's asked ones)."""
        return {name: edit.text() for name, edit in self.value_edits.items()}

    def fill_values(self, values: Mapping[str, str]) -> None:
        """Put remembered values in the boxes that are empty (a contact's order number)."""
        for name, edit in self.value_edits.items():
            if not edit.text() and values.get(name):
                edit.setText(values[name])

    def _account_changed(self) -> None:
        caps = self.capabilities()
        listed = caps is not None and caps.bridge is BridgeKind.CLICKTOCALL
        self.bridge_refresh.setVisible(listed)
        self.bridge_manage.setVisible(listed)
        self._apply_capabilities()
        self.accountChanged.emit()

    def _apply_capabilities(self) -> None:
        caps = self.capabilities()
        account = self.account()
        label = provider_label(account.provider) if account else ""

        def gate(widget: QWidget, option: str) -> None:
            reason = unsupported_reason(caps, label, option) if caps else "No account selected"
            widget.setEnabled(reason is None)
            widget.setToolTip(reason or "")

        gate(self.record_box, "record")
        gate(self.limit_box, "max_length")
        gate(self.attempts_box, "attempts")
        # Empty: the account's own (its hold file, its campaign), which the box shows.
        for edit, option, key, none in (
            (self.holdfile_edit, "holdfile", "holdfile", "No hold file"),
            (self.campid_edit, "campaign", "campid", "No campaign"),
        ):
            takes = caps is not None and unsupported_reason(caps, label, option) is None
            self.form.setRowVisible(edit, takes)
            own = account.option(key) if account is not None else None
            edit.setPlaceholderText(f"The account's: {own}" if own else none)
        flows_ok = caps is not None and caps.flows
        flow_item = self.mode_box.model().item(1)  # type: ignore[attr-defined]
        flow_item.setEnabled(flows_ok)
        flow_reason = None if flows_ok else unsupported_reason(caps, label, "flow") if caps else ""
        flow_item.setToolTip(flow_reason or "")
        if not flows_ok and self.mode_box.currentData() == FLOW:
            self.mode_box.setCurrentIndex(0)
        in_flow = self.mode_box.currentData() == FLOW
        self.flow_box.setEnabled(in_flow and self.flow_box.count() > 0)
        self.values_box.setVisible(in_flow and bool(self.value_edits))
        self.flow_box.setToolTip(
            "" if in_flow else "Choose 'Ring the customer into an IVR flow' to use a flow"
        )
        if caps is not None and caps.bridge is BridgeKind.NONE:
            self.bridge_box.setEnabled(False)
            self.bridge_box.setToolTip(f"{label} calls have no bridge or caller ID to choose")
        else:
            self.bridge_box.setEnabled(True)
            self.bridge_box.setToolTip("")

    # -- what to call with --------------------------------------------------------------

    @property
    def flow_mode(self) -> bool:
        return bool(self.mode_box.currentData() == FLOW)

    def flow_id(self) -> str | None:
        data = self.flow_box.currentData()
        return str(data) if self.flow_mode and data else None

    def options(self) -> CallOptions:
        """The options as chosen, for ``CallService.place_call`` (the flow and its variables
        are the window's to add: they depend on who is called)."""
        bridge = self.bridge_box.currentData() if self.bridge_box.isEnabled() else None
        attempts = self.attempts_box.currentData() if self.attempts_box.isEnabled() else None
        caps = self.capabilities()
        holdfile = self.holdfile_edit.text().strip() if caps and caps.holdfile else ""
        campid = self.campid_edit.text().strip() if caps and caps.campaign else ""
        return CallOptions(
            bridge=str(bridge) if bridge else None,
            record=self.record_box.isEnabled() and self.record_box.isChecked(),
            max_seconds=(
                self.limit_box.value()
                if self.limit_box.isEnabled() and self.limit_box.value() > 0
                else None
            ),
            attempts=int(attempts) if attempts is not None else None,
            holdfile=holdfile or None,
            campid=campid or None,
        )
