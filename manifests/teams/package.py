#!/usr/bin/env python3
"""Builds the Teams app package (a zip of manifest.json and the two icons) for sideloading.

    python3 package.py --app-id <Teams:AppId> --domain bot.example.com [--version 1.0.1] [--out chatopsinspector-teams.zip]

The committed manifest carries all-zero GUIDs as placeholders; this writes the bot's Microsoft App
ID into both "id" and "bots[0].botId" and the bot's public host into "validDomains".
"""
import argparse
import json
import re
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app-id", required=True, help="Microsoft App ID of the Azure Bot (Teams:AppId)")
    parser.add_argument("--domain", required=True, help="public host name of the bot, e.g. bot.example.com")
    parser.add_argument("--version", help="app version (semver); raise it for every re-upload")
    parser.add_argument("--out", default="chatopsinspector-teams.zip")
    args = parser.parse_args()
    if not GUID.match(args.app_id):
        parser.error("--app-id must be a GUID")

    manifest = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
    manifest["id"] = args.app_id
    manifest["bots"][0]["botId"] = args.app_id
    manifest["validDomains"] = [args.domain]
    if args.version:
        manifest["version"] = args.version

    with zipfile.ZipFile(args.out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        package.write(HERE / manifest["icons"]["color"], manifest["icons"]["color"])
        package.write(HERE / manifest["icons"]["outline"], manifest["icons"]["outline"])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
