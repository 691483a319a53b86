"""The alarm summary's dialogs: shelve (a reason and a duration within the site's limit) and a reason or a
comment for the other commands. They refuse to close on OK without the text (ISA-18.2: a shelf, and an
alarm taken out of service, are recorded with why). Opened with `open()`: the GUI never waits on them."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

PRESETS_S = [(15 * 60, "15 min"), (3600, "1 h"), (4 * 3600, "4 h"), (8 * 3600, "8 h")]


def shelve_durations(max_shelve_h: float) -> list[tuple[int, str]]:
    """The presets the site allows, and the site's maximum itself when it falls between them."""
    limit = max_shelve_h * 3600
    allowed = [(s, text) for s, text in PRESETS_S if s <= limit]
    if limit < PRESETS_S[-1][0] and all(s != limit for s, _ in allowed):
        minutes = limit / 60
        allowed.append((int(limit), f"{minutes:g} min (site maximum)" if minutes < 60
                        else f"{minutes / 60:g} h (site maximum)"))
    return allowed


class ReasonDialog(QDialog):
    """One line of text that must not be empty (the reason, or the comment)."""

    def __init__(self, title: str, prompt: str, alarms: list[str], parent: QWidget | None = None,
                 required_note: str = "A reason is required.") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self.alarms = alarms
        layout = QVBoxLayout(self)
        shown = ", ".join(alarms[:5]) + (f" and {len(alarms) - 5} more" if len(alarms) > 5 else "")
        self.target = QLabel(f"{len(alarms)} alarm{'s' if len(alarms) != 1 else ''}: {shown}", self)
        self.target.setWordWrap(True)
        layout.addWidget(self.target)
        self.form = QFormLayout()
        self.reason = QLineEdit(self)
        self.reason.setMaxLength(500)
        self.form.addRow(prompt, self.reason)
        layout.addLayout(self.form)
        self.hint = QLabel(required_note, self)
        self.hint.setObjectName("caption")
        layout.addWidget(self.hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason.textChanged.connect(self._check)
        self._check()

    @property
    def ok_button(self):  # type: ignore[no-untyped-def]
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def text(self) -> str:
        return self.reason.text().strip()

    def _check(self) -> None:
        self.ok_button.setEnabled(bool(self.text()))

    def accept(self) -> None:
        if not self.text():  # Enter in an empty field, or a script: refused like the button
            self.hint.setText(f"<b>{self.hint.text().replace('<b>', '').replace('</b>', '')}</b>")
            self.reason.setFocus()
            return
        super().accept()


class ShelveDialog(ReasonDialog):
    def __init__(self, alarms: list[str], max_shelve_h: float, parent: QWidget | None = None) -> None:
        super().__init__("Shelve alarms", "Reason:", alarms, parent,
                         required_note=f"A reason is required. A shelf ends by itself; at most "
                                       f"{max_shelve_h:g} h (alarms.max_shelve_h).")
        self.duration = QComboBox(self)
        for seconds, text in shelve_durations(max_shelve_h):
            self.duration.addItem(text, seconds)
        self.duration.setCurrentIndex(min(1, self.duration.count() - 1))  # 1 h when allowed
        self.form.addRow("For:", self.duration)

    def duration_s(self) -> float:
        return float(self.duration.currentData())
