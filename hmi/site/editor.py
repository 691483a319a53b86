"""Editing site.yaml from the application (the browser's "add to project").

Round-trips the file with ruamel.yaml so the engineer's comments and layout survive, checks
the edited text with the same loader as at start-up *before* writing, writes atomically and
keeps the previous file as site.yaml.bak. A rejected edit changes nothing on disk.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from hmi.site.loader import SITE_FILE, SiteError, parse_site


def tag_name_for(display_name: str, taken: set[str]) -> str:
    """A valid, unused tag name from a display name: 'Motor Temp.' -> 'motor_temp', then motor_temp_2..."""
    base = re.sub(r"[^A-Za-z0-9]+", "_", display_name).strip("_").lower() or "tag"
    if not base[0].isalpha():
        base = f"t_{base}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def add_tags(folder: Path, tags: list[dict[str, Any]]) -> list[str]:
    """Append tag entries to the site's tag list; returns their names. Raises SiteError (nothing
    written) if the result would not load."""
    path = folder / SITE_FILE
    yaml = YAML()
    yaml.preserve_quotes = True
    document = yaml.load(path.read_text(encoding="utf-8"))
    existing = document.setdefault("tags", [])
    taken = {str(t.get("name")) for t in existing}
    names = []
    for tag in tags:
        entry = dict(tag)
        entry["name"] = tag_name_for(str(entry.get("name") or entry.get("description") or "tag"), taken)
        taken.add(entry["name"])
        existing.append(entry)
        names.append(entry["name"])
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    text = buffer.getvalue()
    parse_site(text, path)  # raises SiteError naming the problem; the file is untouched
    temporary = path.with_suffix(".yaml.tmp")
    temporary.write_text(text, encoding="utf-8")
    backup = path.with_suffix(".yaml.bak")
    backup.write_bytes(path.read_bytes())
    os.replace(temporary, path)
    return names


__all__ = ["SiteError", "add_tags", "tag_name_for"]
