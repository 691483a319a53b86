"""`linewise`: the command line. Opens a site (or the demo plant) with or without a window."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from hmi.runtime import DemoPlantError, Runtime, default_data_dir
from hmi.runtime.demo import DEMO_SITE, start_demo_plant
from hmi.runtime.heap import freeze_startup_heap
from hmi.site import SiteError, load_site

log = logging.getLogger("linewise")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="linewise", description="Linewise HMI and supervisory control.",
                                     epilog="Certificates: `linewise pki {list,trust,untrust} --site DIR` "
                                            "(see `linewise pki --help`). History: `linewise history "
                                            "{export,usage} --site DIR` (see `linewise history --help`). Event "
                                            "journal: `linewise audit {verify,list} --site DIR` (see `linewise "
                                            "audit --help`). Alarm KPIs: `linewise alarms report --site DIR`.")
    parser.add_argument("--site", type=Path, help="site folder containing site.yaml")
    parser.add_argument("--demo", action="store_true",
                        help="start the built-in demo plant (OPC UA + Modbus on 127.0.0.1) and open its site")
    parser.add_argument("--headless", action="store_true",
                        help="acquisition and historian only, no window (edge boxes); stop with Ctrl-C/SIGTERM")
    parser.add_argument("--data-dir", type=Path, help="where the historian is kept (default: per-user data dir)")
    parser.add_argument("--screenshot", type=Path, metavar="FILE", help="render the main window to a PNG and exit")
    parser.add_argument("--after", type=float, default=3.0, metavar="SECONDS",
                        help="with --screenshot: wait this long for live data first (default 3)")
    parser.add_argument("--connections", action="store_true",
                        help="open the Connections window at start (with --screenshot: saved as FILE-connections.png)")
    parser.add_argument("--alarms", action="store_true",
                        help="open the alarm summary at start (with --screenshot: saved as FILE-alarms.png)")
    parser.add_argument("--trend", metavar="NAME|TAG,TAG…",
                        help="open a trend window at start: a saved trend of the site, or these tags "
                             "(with --screenshot: saved as FILE-trend.png)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    if args.site is None and not args.demo:
        parser.error("give --site DIR to open a site, or --demo to run the built-in demo plant")
    if args.headless and args.screenshot:
        parser.error("--screenshot needs the window; it cannot be combined with --headless")
    if args.after < 0:
        parser.error("--after must be zero or more seconds")
    if not (args.headless or args.screenshot) and not has_display():
        parser.error("no display to open a window on (DISPLAY/WAYLAND_DISPLAY unset): use --headless for "
                     "acquisition only, or --screenshot FILE to render offscreen")
    return args


def has_display() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["pki"]:
        from hmi.pki_cli import pki_main

        return pki_main(argv[1:])
    if argv[:1] == ["history"]:
        from hmi.history_cli import history_main

        return history_main(argv[1:])
    if argv[:1] == ["audit"]:
        from hmi.audit_cli import audit_main

        return audit_main(argv[1:])
    if argv[:1] == ["alarms"]:
        from hmi.alarms_cli import alarms_main

        return alarms_main(argv[1:])
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    for noisy in ("asyncua", "pymodbus"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        site = load_site(args.site or DEMO_SITE)
    except SiteError as exc:
        print(f"linewise: the site project is invalid:\n{exc}", file=sys.stderr)
        return 2
    demo = None
    try:
        if args.demo:
            demo, site = start_demo_plant(site, args.data_dir or default_data_dir(site))
        if args.screenshot:
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        runtime = Runtime(site, args.data_dir)
        runtime.start()
        try:
            if args.headless:
                return run_headless(runtime)
            from hmi.ui.app import run_gui  # Qt is only loaded when a window is wanted

            return run_gui(runtime, args.screenshot, args.after, args.connections, args.trend,
                           open_alarms=args.alarms)
        finally:
            runtime.stop()
            log.info("stopped; %d samples written to %s", runtime.historian.rows_written, runtime.historian.path)
    except DemoPlantError as exc:
        print(f"linewise: {exc}", file=sys.stderr)
        return 1
    finally:
        if demo is not None:
            demo.stop()


def run_headless(runtime: Runtime) -> int:
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    log.info("running headless on %s; Ctrl-C or SIGTERM stops", runtime.site.project.name)
    freeze_startup_heap()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopping: closing connections and flushing the historian")
    return 0


if __name__ == "__main__":
    sys.exit(main())
