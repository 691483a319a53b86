"""Load a site folder: parse YAML, validate with pydantic, resolve cross-references.

Every problem is reported with file, line and field, e.g.
`site.yaml:23: tags[3].address: unknown scheme 'opcx' (known: mem, modbus, opcua)`,
and all problems are reported at once so an installer fixes a file in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from drivers.plugins import AddressError, TagAddress, parse_tag_address, plugin_for_url
from hmi.site.alarm_checks import check_alarms
from hmi.site.schema import ConnectionSpec, SiteProject, TagSpec

SITE_FILE = "site.yaml"
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SiteError(Exception):
    """The site project is invalid; `problems` lists every error found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Site:
    """A validated site: the project plus what was parsed from it once."""

    folder: Path
    project: SiteProject
    addresses: dict[str, TagAddress] = field(repr=False)
    connection_settings: dict[str, Any] = field(repr=False)

    @property
    def tags(self) -> dict[str, TagSpec]:
        return {tag.name: tag for tag in self.project.tags}

    def connection(self, name: str) -> ConnectionSpec:
        return next(c for c in self.project.connections if c.name == name)

    def with_connections(self, urls: dict[str, str], options: dict[str, dict[str, Any]] | None = None) -> Site:
        """The same site with some connections pointed elsewhere and given extra options (the demo
        plant's ports and PKI folder, tests)."""
        options = options or {}
        connections = [c.model_copy(update={"url": urls.get(c.name, c.url),
                                            "options": {**c.options, **options.get(c.name, {})}})
                       for c in self.project.connections]
        project = self.project.model_copy(update={"connections": connections})
        settings = {c.name: plugin_for_url(c.url).settings(c.url, c.options, self.folder) for c in connections}
        return replace(self, project=project, connection_settings=settings)


def load_site(folder: str | Path) -> Site:
    folder = Path(folder)
    path = folder / SITE_FILE
    if not path.is_file():
        raise SiteError([Problem(str(path), None, "", f"no {SITE_FILE} in {folder} (is this a site folder?)")])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteError([Problem(str(path), None, "", f"cannot read: {exc}")]) from None
    return parse_site(text, path)


def read_yaml_mapping(text: str, file: str, expected: str) -> tuple[dict, dict[Loc, int]]:
    """Parse a YAML document that must be a mapping: (data, line of every key path). SiteError on a syntax
    error (with its line) or when the document is not a mapping (`expected` says what it should be)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise SiteError([Problem(file, mark.line + 1 if mark else None, "", f"YAML syntax: {exc.problem}")]) from None
    if not isinstance(data, dict):
        raise SiteError([Problem(file, 1, "", expected)])
    return data, _line_map(root)


def parse_site(text: str, path: Path) -> Site:
    file = str(path)
    data, lines = read_yaml_mapping(
        text, file, "the site file must be a mapping with schema_version, name, connections, tags and screens"
    )
    try:
        project = SiteProject.model_validate(data)
    except ValidationError as exc:
        raise SiteError([_problem_from_pydantic(file, lines, err) for err in exc.errors()]) from None
    problems: list[Problem] = []
    settings = _check_connections(project, path.parent, file, lines, problems)
    addresses = _check_tags(project, settings, file, lines, problems)
    _check_screens(project, file, lines, problems)
    check_alarms(project, lambda loc, message: problems.append(_problem(file, lines, loc, message)))
    if problems:
        raise SiteError(problems)
    return Site(path.parent, project, addresses, settings)


def _check_connections(project: SiteProject, folder: Path, file: str, lines: dict[Loc, int],
                       problems: list[Problem]) -> dict:
    settings: dict[str, Any] = {}
    holders: dict[str, str] = {}  # a resource only one connection can hold (a serial port) -> that connection
    for i, conn in enumerate(project.connections):
        _unique(conn.name, settings, ("connections", i, "name"), file, lines, problems)
        try:
            settings[conn.name] = plugin_for_url(conn.url).settings(conn.url, conn.options, folder)
        except AddressError as exc:
            problems.append(_problem(file, lines, ("connections", i, "url"), str(exc)))
            continue
        except ValueError as exc:
            problems.append(_problem(file, lines, ("connections", i, "options"), str(exc)))
            continue
        resource = getattr(settings[conn.name], "exclusive_resource", None)
        if resource is not None and resource in holders:
            problems.append(_problem(file, lines, ("connections", i, "url"),
                                     f"{resource} is already used by connection {holders[resource]!r}: one serial "
                                     "line is one connection (give each device its unit id in the tag addresses)"))
        elif resource is not None:
            holders[resource] = conn.name
    return settings


def _check_tags(project: SiteProject, settings: dict[str, Any], file: str, lines: dict[Loc, int],
                problems: list[Problem]) -> dict:
    connections = {c.name: c for c in project.connections}
    addresses: dict[str, TagAddress] = {}
    for i, tag in enumerate(project.tags):
        _unique(tag.name, addresses, ("tags", i, "name"), file, lines, problems)
        address = parse_tag_address(tag.address)  # validated by the schema already
        conn = connections.get(address.connection)
        if conn is None:
            problems.append(_problem(file, lines, ("tags", i, "address"),
                                     f"connection {address.connection!r} is not defined under connections "
                                     f"(defined: {', '.join(connections) or 'none'})"))
        elif address.scheme not in _schemes_of(conn):
            problems.append(_problem(file, lines, ("tags", i, "address"),
                                     f"{address.scheme}:// address on connection {conn.name!r}, which is {conn.url}"))
        elif conn.name in settings and (check := plugin_for_url(conn.url).check_address) is not None:
            problem = check(address.address, settings[conn.name])
            if problem:
                problems.append(_problem(file, lines, ("tags", i, "address"), problem))
        addresses[tag.name] = address
    return addresses


def _schemes_of(conn: ConnectionSpec) -> set[str]:
    try:
        return {plugin_for_url(conn.url).scheme}
    except AddressError:
        return set()


def _check_screens(project: SiteProject, file: str, lines: dict[Loc, int], problems: list[Problem]) -> None:
    tags = {t.name: t for t in project.tags}
    seen: dict[str, Any] = {}
    for s, screen in enumerate(project.screens):
        _unique(screen.name, seen, ("screens", s, "name"), file, lines, problems)
        seen[screen.name] = screen
        for p, panel in enumerate(screen.panels):
            for w, widget in enumerate(panel.widgets):
                loc: Loc = ("screens", s, "panels", p, "widgets", w)
                for name in widget.tag_names():
                    key = "tags" if widget.type == "trend" else "tag"
                    if name not in tags:
                        problems.append(_problem(file, lines, (*loc, key), f"unknown tag {name!r}"))
                    elif widget.type == "setpoint" and not tags[name].writable:
                        problems.append(_problem(file, lines, (*loc, key),
                                                 f"tag {name!r} is not writable: set 'writable: true' on it"))


def _unique(name: str, seen: dict, loc: Loc, file: str, lines: dict[Loc, int], problems: list[Problem]) -> None:
    if name in seen:
        problems.append(_problem(file, lines, loc, f"duplicate name {name!r}"))


def _problem_from_pydantic(file: str, lines: dict[Loc, int], error: Any) -> Problem:
    loc = tuple(part for part in error["loc"] if isinstance(part, int) or "[" not in str(part))
    message = str(error["ctx"]["error"]) if "ctx" in error and "error" in error["ctx"] else error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling)"
    elif error["type"] == "missing":
        message = "required field is missing"
    return _problem(file, lines, loc, message)


def _problem(file: str, lines: dict[Loc, int], loc: Loc, message: str) -> Problem:
    return Problem(file, _line_for(lines, loc), format_loc(loc), message)


def format_loc(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line_for(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest part of `loc` that exists in the file."""
    for depth in range(len(loc), -1, -1):
        if loc[:depth] in lines:
            return lines[loc[:depth]]
    return None


def _line_map(root: yaml.Node | None) -> dict[Loc, int]:
    lines: dict[Loc, int] = {}

    def walk(node: yaml.Node, loc: Loc) -> None:
        lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*loc, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*loc, index))

    if root is not None:
        walk(root, ())
    return lines
