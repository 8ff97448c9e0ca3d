"""Check the locked dependencies against the remediation time frames of docs/security.md.

    make audit      # or: .venv/bin/python tools/audit_dependencies.py [--lock requirements.lock]

For each package pinned in the lock it asks the package index's JSON API (PyPI's, or --index)
for the package's releases and known vulnerabilities, then holds the pin to the frames:

- a known vulnerability of the pinned version, fixed in a release published more than
  VULNERABILITY_DAYS ago, breaches them (the index gives no severity, so every one counts as
  high);
- a newer release of a component the application runs with (what ``clinicportal`` requires,
  and what those require) published more than RUNTIME_DAYS ago breaches them, and so does one of
  a tool used only to build and test it (the rest of the lock) published more than TOOL_DAYS
  ago.

Exits 1 when a frame is breached, 2 when the index cannot be asked, 0 otherwise; what is due
soon is listed either way. Where the index does not answer for one version, the vulnerabilities
of the newest release are read when the pin is the newest, and the age of the newer releases
bounds the rest.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import importlib.metadata
import json
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

VULNERABILITY_DAYS = 7
RUNTIME_DAYS = 30
TOOL_DAYS = 90
INDEX = "https://pypi.org/pypi"
TIMEOUT = 20
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", re.MULTILINE)


@dataclass(frozen=True)
class Finding:
    package: str
    pinned: str
    what: str
    due: datetime.date | None  # None: no release fixes it yet

    def line(self) -> str:
        due = f"; due {self.due.isoformat()}" if self.due else ""
        return f"{self.package}=={self.pinned}: {self.what}{due}"


def runtime_packages(root: str = "clinicportal") -> set[str]:
    """Return the names of what ``root`` needs to run: its requirements without extras, and
    theirs, read from the installed distributions."""
    seen: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = set()
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        names.add(canonicalize_name(name))
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in (extras or {""})
            )
            if wanted:
                todo.append((requirement.name, frozenset(requirement.extras)))
    names.discard(canonicalize_name(root))
    return names


def _get(url: str) -> dict | None:
    """Return the JSON at ``url``, or None when the index has no such page."""
    try:
        # The scheme is http(s): main() refuses any other index.
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def _day(upload_time: str) -> datetime.date:
    return datetime.datetime.fromisoformat(upload_time.rstrip("Z")).date()


def _releases(project: dict) -> dict[Version, datetime.date]:
    """Each final, not wholly yanked release with files, and the day its first file came."""
    releases = {}
    for text, files in project.get("releases", {}).items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        kept = [f for f in files if not f.get("yanked")]
        if kept and not version.is_prerelease and not version.is_devrelease:
            releases[version] = min(_day(f["upload_time"]) for f in kept)
    return releases


def audit_package(name: str, pinned: str, *, runtime: bool, index: str) -> list[Finding]:
    """Return when ``name==pinned`` must be updated by, for each reason it must."""
    project = _get(f"{index}/{name}/json")
    if project is None:
        raise LookupError(f"{name} is not on the index")
    version = Version(pinned)
    releases = _releases(project)
    findings = []
    newer = sorted(day for release, day in releases.items() if release > version)
    if newer:
        days = RUNTIME_DAYS if runtime else TOOL_DAYS
        kind = "runtime component" if runtime else "build and test tool"
        findings.append(
            Finding(
                name,
                pinned,
                f"a newer release of this {kind} came out on {newer[0].isoformat()}",
                newer[0] + datetime.timedelta(days=days),
            )
        )
    this = _get(f"{index}/{name}/{pinned}/json")
    if this is None and Version(project["info"]["version"]) == version:
        this = project
    for vulnerability in (this or {}).get("vulnerabilities") or []:
        if vulnerability.get("withdrawn"):
            continue
        fixes = [
            releases[Version(text)]
            for text in vulnerability.get("fixed_in") or []
            if Version(text) in releases and Version(text) > version
        ]
        ident = vulnerability.get("id", "a vulnerability")
        if fixes:
            fixed = min(fixes)
            what = f"{ident}, fixed in a release of {fixed.isoformat()}"
            findings.append(
                Finding(name, pinned, what, fixed + datetime.timedelta(days=VULNERABILITY_DAYS))
            )
        else:
            what = f"{ident} has no fixed release: mitigate it and record how in docs/security.md"
            findings.append(Finding(name, pinned, what, None))
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=Path("requirements.lock"))
    parser.add_argument("--index", default=INDEX, help="the JSON API's address (PyPI's)")
    parser.add_argument("--today", type=datetime.date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    if not args.index.startswith(("https://", "http://")):
        parser.error("--index must be an http(s) address")
    today = args.today or datetime.datetime.now(datetime.UTC).date()
    pins = PIN.findall(args.lock.read_text())
    runtime = runtime_packages()

    def audit(pin: tuple[str, str]) -> list[Finding]:
        name, pinned = pin
        return audit_package(
            name, pinned, runtime=canonicalize_name(name) in runtime, index=args.index
        )

    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            findings = [f for found in pool.map(audit, pins) for f in found]
    except (OSError, LookupError, ValueError) as error:
        print(f"The package index could not be asked: {error}", file=sys.stderr)
        return 2
    breached = [f for f in findings if f.due and f.due < today]
    pending = [f for f in findings if f not in breached]
    for heading, group in (("Past its time frame", breached), ("Due", pending)):
        if group:
            print(f"{heading}:")
            for finding in sorted(group, key=lambda f: f.due or datetime.date.max):
                print(f"  {finding.line()}")
    print(
        f"{len(pins)} locked packages checked: {len(breached)} past their time frame, "
        f"{len(pending)} due."
    )
    return 1 if breached else 0


if __name__ == "__main__":
    sys.exit(main())
