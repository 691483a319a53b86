"""The OPC UA address-space browser: a lazy tree, the selected node's attributes, search, and
"Add to project", which writes tag entries with the node's data type, units and range."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hmi.bridge import Bridge
from hmi.site.editor import SiteError, add_tags

ROOT = "i=85"  # the Objects folder
PLACEHOLDER = "…"
NODE_ID, CLASS, DETAILS = Qt.ItemDataRole.UserRole, Qt.ItemDataRole.UserRole + 1, Qt.ItemDataRole.UserRole + 2
FIELDS = [("node_id", "NodeId"), ("node_class", "Class"), ("data_type", "DataType"), ("linewise_type", "Tag type"),
          ("value_rank", "ValueRank"), ("access", "Access"), ("units", "Engineering units"), ("eu_range", "EURange"),
          ("description", "Description"), ("value", "Value")]


class BrowserDialog(QDialog):
    def __init__(self, bridge: Bridge, connection: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Browse {connection}")
        self.resize(1000, 600)
        self.bridge = bridge
        self.connection = connection
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Name", "Class"])
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.tree.itemExpanded.connect(self._expand)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.search_box = QLineEdit(self)
        self.search_box.setPlaceholderText("search names below Objects…")
        self.search_box.returnPressed.connect(self.search)
        search_button = QPushButton("Search", self)
        search_button.clicked.connect(self.search)
        clear_button = QPushButton("Show tree", self)
        clear_button.clicked.connect(self.reload)
        self.details_box = QGroupBox("Attributes", self)
        form = QFormLayout(self.details_box)
        self.labels: dict[str, QLabel | QLineEdit] = {key: QLabel(self.details_box) for key, _ in FIELDS}
        # a NodeId is long and gets copied into site files: a read-only line scrolls and copies exactly
        self.labels["node_id"] = QLineEdit(self.details_box)
        self.labels["node_id"].setReadOnly(True)
        for key, title in FIELDS:
            label = self.labels[key]
            if isinstance(label, QLabel):
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                label.setWordWrap(True)
            form.addRow(title, label)
        self.add_button = QPushButton("Add to project", self)
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self.add_selected)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.search_box, 1)
        top.addWidget(search_button)
        top.addWidget(clear_button)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.details_box)
        right_layout.addStretch(1)
        right_layout.addWidget(self.add_button)
        splitter = QSplitter(self)
        splitter.addWidget(self.tree)
        splitter.addWidget(right)
        splitter.setSizes([560, 440])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self.reload()

    # -- tree -------------------------------------------------------------------------------

    def reload(self) -> None:
        self.tree.clear()
        self._request_children(None, ROOT)

    def _request_children(self, parent: QTreeWidgetItem | None, node_id: str) -> None:
        self.status.setText("browsing…")
        self.bridge.browse(self.connection, "children", node_id,
                           on_done=lambda entries, error: self._show_children(parent, entries, error))

    def _show_children(self, parent: QTreeWidgetItem | None, entries: Any, error: Exception | None) -> None:
        if error is not None:
            self.status.setText(f"cannot browse: {error}")
            return
        self.status.setText("")
        if parent is not None:
            parent.takeChildren()
        for entry in entries:
            item = self._item(entry)
            if parent is None:
                self.tree.addTopLevelItem(item)
            else:
                parent.addChild(item)
        self.tree.resizeColumnToContents(0)

    def _item(self, entry: Any) -> QTreeWidgetItem:
        item = QTreeWidgetItem([entry.display_name, entry.node_class])
        item.setData(0, NODE_ID, entry.node_id)
        item.setData(0, CLASS, entry.node_class)
        item.setToolTip(0, entry.node_id)
        if entry.node_class in ("Object", "Variable"):  # variables can have children (properties, fields)
            item.addChild(QTreeWidgetItem([PLACEHOLDER]))
        return item

    def _expand(self, item: QTreeWidgetItem) -> None:
        if item.childCount() == 1 and item.child(0).text(0) == PLACEHOLDER:
            self._request_children(item, item.data(0, NODE_ID))

    # -- search -------------------------------------------------------------------------------

    def search(self) -> None:
        text = self.search_box.text().strip()
        if not text:
            return
        self.status.setText(f"searching for {text!r}…")
        self.bridge.browse(self.connection, "search", text, on_done=self._show_results)

    def _show_results(self, entries: Any, error: Exception | None) -> None:
        if error is not None:
            self.status.setText(f"search failed: {error}")
            return
        self.tree.clear()
        for entry in entries:
            item = self._item(entry)
            item.setText(0, f"{entry.display_name}   ({entry.node_id})")
            self.tree.addTopLevelItem(item)
        self.status.setText(f"{len(entries)} match(es)")

    # -- attributes and adding ----------------------------------------------------------------------

    def _selection_changed(self) -> None:
        items = self.tree.selectedItems()
        self._update_add_button()
        if len(items) == 1 and items[0].data(0, NODE_ID):
            item = items[0]
            self.bridge.browse(self.connection, "details", item.data(0, NODE_ID),
                               on_done=lambda details, error: self._show_details(item, details, error))

    def _show_details(self, item: QTreeWidgetItem, details: Any, error: Exception | None) -> None:
        if error is not None:
            self.status.setText(f"cannot read attributes: {error}")
            return
        item.setData(0, DETAILS, details)
        access = ", ".join(a for a, ok in (("read", details.readable), ("write", details.writable)) if ok) or "-"
        eu_range = "" if details.eu_range is None else f"{details.eu_range[0]:g} .. {details.eu_range[1]:g}"
        unsupported = "not supported" if details.node_class == "Variable" else ""
        values = {**details.__dict__, "access": access, "eu_range": eu_range,
                  "linewise_type": details.linewise_type or unsupported}
        for key, label in self.labels.items():
            label.setText(str(values.get(key, "")))
        self._update_add_button()

    def _addable(self) -> list[Any]:
        details = [i.data(0, DETAILS) for i in self.tree.selectedItems()]
        return [d for d in details if d is not None and d.node_class == "Variable" and d.linewise_type]

    def _update_add_button(self) -> None:
        self.add_button.setEnabled(bool(self._addable()))

    def tag_entries(self) -> list[dict[str, Any]]:
        """Site tag entries for the selected variables (what "Add to project" writes)."""
        entries = []
        for d in self._addable():
            entry: dict[str, Any] = {"name": d.display_name, "address": f"opcua://{self.connection}/{d.node_id}",
                                     "data_type": d.linewise_type, "description": d.description or d.display_name}
            if d.units:
                entry["units"] = d.units
            if d.eu_range is not None and d.eu_range[0] < d.eu_range[1]:
                entry["range"] = {"low": d.eu_range[0], "high": d.eu_range[1]}
                if d.writable:
                    entry["limits"] = {"low": d.eu_range[0], "high": d.eu_range[1]}
            if d.writable:
                entry["writable"] = True
            entries.append(entry)
        return entries

    def add_selected(self) -> list[str]:
        entries = self.tag_entries()
        if not entries:
            return []
        try:
            names = add_tags(self.bridge.runtime.site.folder, entries)
        except (SiteError, OSError) as exc:
            self.status.setText(f"not added: {exc}")
            self.bridge.runtime.record_config_change("site_tags_added", ", ".join(e["name"] for e in entries),
                                                     "failed", str(exc))
            return []
        self.bridge.runtime.record_config_change("site_tags_added", ", ".join(names), "ok",
                                                 f"added to {self.bridge.runtime.site.folder / 'site.yaml'}")
        self.status.setText(f"added {', '.join(names)} to site.yaml; they are acquired from the next start")
        return names
