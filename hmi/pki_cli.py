"""`linewise pki ...`: inspect and decide on OPC UA server certificates from a terminal.

    linewise pki list    --site DIR               own, trusted and rejected certificates
    linewise pki trust   --site DIR THUMBPRINT    move a rejected certificate to trusted/
    linewise pki trust   --site DIR --file F      trust a certificate received as a file
    linewise pki untrust --site DIR THUMBPRINT    move a trusted certificate back to rejected/

`--pki DIR` instead of `--site DIR` names a PKI folder directly (a site's `pki_dir` option, or
the demo's `<data dir>/pki`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drivers.opcua.pki import CertificateInfo, PkiStore, certificate_info, load_certificate


def pki_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="linewise pki", description="Manage the OPC UA certificates of a site.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("list", "show own, trusted and rejected certificates"),
                            ("trust", "trust a rejected server certificate (or one given as a file)"),
                            ("untrust", "stop trusting a server certificate")):
        sub = commands.add_parser(name, help=help_text)
        where = sub.add_mutually_exclusive_group(required=True)
        where.add_argument("--site", type=Path, help="site folder (its pki/ folder is used)")
        where.add_argument("--pki", type=Path, help="a PKI folder (own/, trusted/, rejected/) given directly")
        if name != "list":
            sub.add_argument("thumbprint", nargs="?", help="SHA-1 thumbprint, or a unique prefix of it")
        if name == "trust":
            sub.add_argument("--file", type=Path, help="a certificate file (DER or PEM) to trust")
    args = parser.parse_args(argv)
    folder = args.pki if args.pki is not None else args.site
    if not folder.is_dir():
        parser.error(f"{'PKI' if args.pki is not None else 'site'} folder {folder} does not exist")
    store = PkiStore(args.pki if args.pki is not None else args.site / "pki")
    try:
        if args.command == "list":
            return _list(store)
        if args.command == "trust":
            if args.file is not None:
                info = store.trust_certificate(load_certificate(args.file))
            elif args.thumbprint:
                info = store.trust(args.thumbprint)
            else:
                parser.error("give the THUMBPRINT of a rejected certificate, or --file")
            print(f"trusted:\n{_indent(info.describe())}")
            return 0
        if not args.thumbprint:
            parser.error("give the THUMBPRINT of a trusted certificate")
        info = store.untrust(args.thumbprint)
        print(f"no longer trusted (moved to rejected/):\n{_indent(info.describe())}")
        return 0
    except (KeyError, ValueError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
        print(f"linewise pki: {message}", file=sys.stderr)
        return 1


def _list(store: PkiStore) -> int:
    own = store.own_certificate_path
    print("own (Linewise's application certificate):")
    print(_indent(certificate_info(load_certificate(own)).describe()) if own.exists()
          else "  not created yet (it is made on the first secure connection)")
    for title, infos in (("trusted", store.trusted_certificates()), ("rejected", store.rejected_certificates())):
        print(f"\n{title}:")
        print("\n\n".join(_indent(_summary(i)) for i in infos) if infos else "  none")
    return 0


def _summary(info: CertificateInfo) -> str:
    problem = info.validity_problem()
    return info.describe() + (f"\n!! {problem}" if problem else "")


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
