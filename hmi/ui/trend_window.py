"""The trend window (a full TrendWidget with its pens editable), the tag picker, and the Trends menu.

Main window → Trends → "New trend…" picks tags and opens a window; the site's saved trends
(`<site>/trends/*.yaml`) are listed under it and reopen exactly as saved. A broken saved trend is reported
with its file, line and field, and opens nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from hmi.bridge import Bridge
from hmi.site import SiteError, TagSpec
from hmi.site.schema import NAME_PATTERN
from hmi.site.trend_config import MAX_PENS, TrendConfig, list_trends, load_trend, save_trend, trend_path, trendable
from widgets.trend import TrendWidget

log = logging.getLogger(__name__)


def describe(spec: TagSpec) -> str:
    units = f" [{spec.units}]" if spec.units else ""
    return f"{spec.name} — {spec.description}{units}" if spec.description else f"{spec.name}{units}"


class TagPickerDialog(QDialog):
    """Choose tags to trend: type to filter by name, description or units; tick the ones wanted."""

    def __init__(
        self,
        tags: Mapping[str, TagSpec],
        exclude: set[str] | frozenset[str] = frozenset(),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Tags to trend")
        self.resize(520, 480)
        layout = QVBoxLayout(self)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter: name, description or units")
        self.filter.setClearButtonEnabled(True)
        layout.addWidget(self.filter)
        self.list = QListWidget(self)
        for spec in tags.values():
            if not trendable(spec) or spec.name in exclude:
                continue
            item = QListWidgetItem(describe(spec), self.list)
            item.setData(Qt.ItemDataRole.UserRole, spec.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        layout.addWidget(self.list, 1)
        self.note = QLabel(f"Up to {MAX_PENS} pens per trend.", self)
        self.note.setObjectName("caption")
        layout.addWidget(self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.filter.textChanged.connect(self._filter)
        self.list.itemChanged.connect(self._check)
        self.list.itemDoubleClicked.connect(self._toggle)
        self._check()

    def _items(self) -> list[QListWidgetItem]:
        return [self.list.item(i) for i in range(self.list.count())]

    def _filter(self, text: str) -> None:
        words = text.lower().split()
        for item in self._items():
            item.setHidden(not all(w in item.text().lower() for w in words))

    def _toggle(self, item: QListWidgetItem) -> None:
        checked = item.checkState() == Qt.CheckState.Checked
        item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)

    def _check(self, *_args) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(0 < len(self.selected()) <= MAX_PENS)

    def selected(self) -> list[str]:
        return [
            item.data(Qt.ItemDataRole.UserRole) for item in self._items() if item.checkState() == Qt.CheckState.Checked
        ]

    def set_selected(self, names: list[str]) -> None:
        for item in self._items():
            wanted = item.data(Qt.ItemDataRole.UserRole) in names
            item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)


class TrendWindow(QMainWindow):
    """One trend in a window of its own; saved to the site as `trends/<name>.yaml`."""

    saved = Signal(str)  # path of the file written

    def __init__(
        self,
        bridge: Bridge,
        config: TrendConfig | None = None,
        tags: list[str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.bridge = bridge
        self.site_folder = bridge.runtime.site.folder
        self.name = config.name if config is not None else ""
        self.title = config.title if config is not None else ""
        if config is not None:
            self.trend = TrendWidget.from_config(bridge, config, parent=self)
        else:
            self.trend = TrendWidget(bridge, tags or [], parent=self)
        self.setCentralWidget(self.trend)
        self.resize(1280, 760)
        toolbar = self.addToolBar("Trend")
        toolbar.setMovable(False)
        self.actions_by_name: dict[str, QAction] = {}
        for text, slot, shortcut in [
            ("Add pens…", self.add_pens, "Ctrl+Shift+A"),
            ("Remove pen", self.remove_selected_pen, "Delete"),
            ("Pen colour…", self.choose_pen_color, ""),
            ("Save", self.save, QKeySequence.StandardKey.Save),
            ("Save as…", self.save_as, QKeySequence.StandardKey.SaveAs),
        ]:
            action = QAction(text, self)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _=False, slot=slot: slot())
            toolbar.addAction(action)
            self.actions_by_name[text] = action
        self.trend.table.doubleClicked.connect(lambda _index: self.choose_pen_color())
        self._update_title()

    def _update_title(self) -> None:
        name = self.title or self.name or "new trend"
        self.setWindowTitle(f"Trend — {name}")

    # -- pens ----------------------------------------------------------------------------------------

    def add_pens(self, names: list[str] | None = None) -> list[str]:
        """Add tags as pens (asks with the tag picker when `names` is None)."""
        if names is None:
            picker = TagPickerDialog(self.bridge.runtime.site.tags, set(self.trend.pens), self)
            if not picker.exec():
                return []
            names = picker.selected()
        room = MAX_PENS - len(self.trend.pens)
        for name in names[:room]:
            self.trend.add_pen(name)
        return names[:room]

    def selected_pen(self) -> str | None:
        rows = self.trend.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.trend.table.item(rows[0].row(), 1).toolTip() or None

    def remove_selected_pen(self) -> None:
        tag = self.selected_pen()
        if tag is not None and len(self.trend.pens) > 1:
            self.trend.remove_pen(tag)

    def choose_pen_color(self, color: str | None = None) -> None:
        tag = self.selected_pen()
        if tag is None:
            return
        if color is None:
            chosen = QColorDialog.getColor(self.trend.pens[tag].color, self, f"Colour of {tag}")
            if not chosen.isValid():
                return
            color = chosen.name()
        self.trend.set_pen_color(tag, QColor(color).name())

    # -- saving --------------------------------------------------------------------------------------

    def save(self, name: str | None = None) -> Path | None:
        """Write the trend to the site (asks for a name the first time). Returns the file, or None."""
        name = name or self.name or self._ask_name()
        if not name:
            return None
        config = self.trend.config(name, self.title)
        try:
            path = save_trend(self.site_folder, config)
        except (OSError, SiteError) as exc:
            QMessageBox.warning(self, "Save trend", f"Could not save the trend {name!r}:\n{exc}")
            return None
        self.name = name
        self._update_title()
        self.statusBar().showMessage(f"Saved to {path}")  # no timeout: a timer would outlive a closed window
        self.saved.emit(str(path))
        return path

    def save_as(self) -> Path | None:
        name = self._ask_name()
        return self.save(name) if name else None

    def _ask_name(self) -> str:
        while True:
            name, ok = QInputDialog.getText(
                self, "Save trend", "Name (letters, digits, _ . -):", text=self.name or "trend"
            )
            if not ok or not name:
                return ""
            if not re.fullmatch(NAME_PATTERN, name):
                QMessageBox.warning(
                    self,
                    "Save trend",
                    f"{name!r} is not a valid name: start with a letter, then letters, digits, _ . or -.",
                )
                continue
            if name != self.name and trend_path(self.site_folder, name).exists():
                answer = QMessageBox.question(self, "Save trend", f"A trend named {name!r} exists. Replace it?")
                if answer != QMessageBox.StandardButton.Yes:
                    continue
            return name

    def closeEvent(self, event) -> None:
        self.trend.release()
        super().closeEvent(event)


class TrendsMenu(QMenu):
    """Trends → New trend…, then the site's saved trends (listed afresh each time the menu opens)."""

    def __init__(self, bridge: Bridge, parent: QWidget) -> None:
        super().__init__("&Trends", parent)
        self.bridge = bridge
        self.windows: list[TrendWindow] = []
        self._saved_actions: list[QAction] = []
        self.new_action = QAction("&New trend…", self)
        self.new_action.setShortcut(QKeySequence("Ctrl+T"))
        self.new_action.triggered.connect(lambda: self.new_trend())
        self.addAction(self.new_action)
        self._section = self.addSection("")
        self.aboutToShow.connect(self.refresh)
        self.refresh()
        for screen in getattr(parent, "screens", {}).values():  # an overview's trend opens in a window
            for widget in screen.widgets:
                if isinstance(widget, TrendWidget):
                    widget.open_requested.connect(self.open_config)

    def refresh(self) -> None:
        for action in self._saved_actions:
            self.removeAction(action)
            action.deleteLater()
        saved = list_trends(self.bridge.runtime.site.folder)
        self._section.setText("Saved trends" if saved else "No saved trends")
        self._saved_actions = []
        for path in saved:
            action = QAction(path.stem, self)
            action.setToolTip(str(path))
            action.triggered.connect(lambda _=False, path=path: self.open_saved(path))
            self.addAction(action)
            self._saved_actions.append(action)

    def new_trend(self, tags: list[str] | None = None) -> TrendWindow | None:
        if tags is None:
            picker = TagPickerDialog(self.bridge.runtime.site.tags, parent=self.parentWidget())
            if not picker.exec():
                return None
            tags = picker.selected()
        return self._show(TrendWindow(self.bridge, tags=tags, parent=self.parentWidget()))

    def open_saved(self, path: Path) -> TrendWindow | None:
        try:
            config = load_trend(path, self.bridge.runtime.site.tags)
        except SiteError as exc:
            log.warning("saved trend %s is invalid:\n%s", path, exc)
            QMessageBox.warning(self.parentWidget(), "Open trend", f"The saved trend cannot be opened:\n\n{exc}")
            return None
        return self._show(TrendWindow(self.bridge, config, parent=self.parentWidget()))

    def open_config(self, config: TrendConfig) -> TrendWindow:
        """A window on a trend that has no file yet (from an overview screen): Save asks for a name."""
        window = TrendWindow(self.bridge, config, parent=self.parentWidget())
        window.name = ""
        window._update_title()
        return self._show(window)

    def open_named(self, spec: str) -> TrendWindow | None:
        """A saved trend by name, or a new one from a comma-separated list of tags (the command line)."""
        path = trend_path(self.bridge.runtime.site.folder, spec)
        if path.exists():
            return self.open_saved(path)
        tags = [t.strip() for t in spec.split(",") if t.strip()]
        unknown = [t for t in tags if t not in self.bridge.runtime.site.tags]
        if unknown or not tags:
            raise ValueError(
                f"no saved trend named {spec!r}, and not a list of known tags (unknown: "
                f"{', '.join(unknown) or 'none given'})"
            )
        return self.new_trend(tags)

    def _show(self, window: TrendWindow) -> TrendWindow:
        window.setWindowFlag(Qt.WindowType.Window, True)
        self.windows = [w for w in self.windows if w.isVisible()]
        self.windows.append(window)
        window.saved.connect(lambda _path: self.refresh())
        window.show()
        window.raise_()
        return window

    def close_windows(self) -> None:
        for window in self.windows:
            window.close()
        self.windows.clear()
