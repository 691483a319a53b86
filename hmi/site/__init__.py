"""Site projects: a folder with `site.yaml` describing connections, tags and screens."""

from hmi.site.loader import Problem, Site, SiteError, load_site, parse_site
from hmi.site.schema import ConnectionSpec, PanelSpec, ScreenSpec, SiteProject, TagSpec, WidgetSpec

__all__ = ["ConnectionSpec", "PanelSpec", "Problem", "ScreenSpec", "Site", "SiteError", "SiteProject",
           "TagSpec", "WidgetSpec", "load_site", "parse_site"]
