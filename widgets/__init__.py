"""Reusable Qt widgets bound to tags through the bridge. They never see a protocol."""

import os

# pyqtgraph must use the same Qt binding as the application.
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
