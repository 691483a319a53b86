"""Driver plugins: how a tag-address scheme maps to a parser and a driver factory.

Built-in and third-party drivers register a `DriverPlugin` under the entry-point group
`linewise.drivers`. A plugin that fails to load is logged and skipped; it never takes the
application down. Parsing addresses needs no protocol library, so loading a site does
not import asyncua or pymodbus: `create` imports the implementation lazily.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from drivers.model import Driver

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "linewise.drivers"


class AddressError(ValueError):
    """A tag address or connection URL is malformed; the message says what is wrong."""


@dataclass(frozen=True)
class DriverPlugin:
    """One protocol: the tag scheme, the connection URL schemes, and two factories.

    `parse_address(path, query)` turns the part of a tag URI after the connection name
    into an immutable address object, raising AddressError. `settings(url, options, site_folder)`
    validates a connection's URL and options when the site loads (ValueError naming the
    option; files named in options are relative to the site folder); `create(name, settings)`
    builds the connection's driver at run time. `check_address(address, settings)`, if given,
    returns what is wrong with an address on that connection (a scan class it does not define).
    """

    scheme: str
    url_schemes: tuple[str, ...]
    parse_address: Callable[[str, Mapping[str, str]], Any]
    settings: Callable[[str, Mapping[str, Any], Path], Any]
    create: Callable[[str, Any], Driver]
    check_address: Callable[[Any, Any], str | None] | None = None


@dataclass(frozen=True)
class TagAddress:
    """A parsed tag URI: `<scheme>://<connection>/<path>?<query>`."""

    uri: str
    scheme: str
    connection: str
    address: Any


_plugins: dict[str, DriverPlugin] | None = None


def available_plugins() -> dict[str, DriverPlugin]:
    """All driver plugins by tag scheme, loaded once from entry points."""
    global _plugins
    if _plugins is None:
        found: dict[str, DriverPlugin] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                plugin = ep.load()
                if not isinstance(plugin, DriverPlugin):
                    raise TypeError(f"{ep.value} is a {type(plugin).__name__}, not a DriverPlugin")
            except Exception:
                log.exception("driver plugin %r could not be loaded; it is skipped", ep.name)
                continue
            found[plugin.scheme] = plugin
        _plugins = found
    return _plugins


def plugin_for_scheme(scheme: str) -> DriverPlugin:
    plugins = available_plugins()
    try:
        return plugins[scheme]
    except KeyError:
        known = ", ".join(sorted(plugins)) or "none installed"
        raise AddressError(f"unknown scheme {scheme!r} (known: {known})") from None


def plugin_for_url(url: str) -> DriverPlugin:
    """The plugin that serves a connection URL such as `opc.tcp://host:4840`."""
    scheme = urlsplit(url).scheme
    if not scheme:
        raise AddressError(f"connection URL {url!r} has no scheme (for example opc.tcp:// or modbus://)")
    for plugin in available_plugins().values():
        if scheme in plugin.url_schemes:
            return plugin
    known = sorted(s for p in available_plugins().values() for s in p.url_schemes)
    raise AddressError(f"unknown connection URL scheme {scheme!r} (known: {', '.join(known)})")


def split_tag_uri(uri: str) -> SplitResult:
    parts = urlsplit(uri.strip())
    if not parts.scheme or "://" not in uri:
        raise AddressError(f"{uri!r} is not a tag address of the form <scheme>://<connection>/<address>")
    if not parts.netloc:
        raise AddressError(f"{uri!r} names no connection after '{parts.scheme}://'")
    return parts


def parse_tag_address(uri: str) -> TagAddress:
    """Parse a tag URI once, when the site loads. Raises AddressError naming the problem."""
    parts = split_tag_uri(uri)
    plugin = plugin_for_scheme(parts.scheme)
    query = _parse_query(parts.query, uri)
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not path:
        raise AddressError(f"{uri!r} has no address after the connection name")
    return TagAddress(uri=uri, scheme=parts.scheme, connection=parts.netloc,
                      address=plugin.parse_address(path, query))


def _parse_query(query: str, uri: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in filter(None, query.split("&")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise AddressError(f"{uri!r}: query item {item!r} is not key=value")
        result[key] = value
    return result
