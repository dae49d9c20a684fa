"""What a new user sees before they have an account: what the dialer needs, and the two
ways on (add the account their provider gave them, or try the demo, which calls a built-in
simulator). The window shows it while the profile has no account."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

WELCOME = (
    "Welcome to Dialer. To place calls, add the account your click-to-call provider gave "
    "you (C2C v2, Click2Call v1, Kazoo or DigiDonar): its address and its secret, which is "
    "kept in the OS keyring only. Or try the demo first: a window of its own whose calls "
    "go to a built-in simulator, so nobody's phone rings."
)


def demo_command() -> tuple[str, list[str]]:
    """How to start ``dialer --demo`` from here: the installed app, or this Python."""
    if getattr(sys, "frozen", False):  # the packaged app: its executable is the dialer
        return sys.executable, ["--demo"]
    return sys.executable, ["-m", "dialer", "--demo"]


def launch_demo() -> bool:
    """Start the demo window as a process of its own (it has its own profile and lock)."""
    from PySide6.QtCore import QProcess

    program, arguments = demo_command()
    started, _pid = QProcess.startDetached(program, arguments)
    return bool(started)


class WelcomePanel(QFrame):
    addAccount = Signal()
    tryDemo = Signal()

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Welcome")
        self.text = QLabel(WELCOME, self)
        self.text.setWordWrap(True)
        self.text.setAccessibleName("Getting started")
        self.add_button = QPushButton("&Add an account…", self)
        self.add_button.setAccessibleName("Add an account")
        self.demo_button = QPushButton("Try the &demo", self)
        self.demo_button.setAccessibleName("Try the demo")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.addAccount)
        self.demo_button.clicked.connect(self.tryDemo)


__all__ = ["WELCOME", "WelcomePanel", "demo_command", "launch_demo"]
