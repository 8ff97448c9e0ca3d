"""Check the locked dependencies against the remediation time frames of docs/security.md.

    make audit      # or: .venv/bin/python tools/audit_dependencies.py [--lock requirements.lock]

For each package pinned in the lock it asks the package index's JSON API (PyPI's, or --index)
for the package's releases and known vulnerabilities, then holds the pin to the frames:

- a known vulnerability of the pinned version, fixed in a release published more than
  VULNERABILITY_DAYS ago, breaches them (the index gives no severity, so every one counts as
  high); one with no fixed release breaches them until its mitigation is recorded in
  tools/audit_exceptions.txt;
- a newer release that the lock's own ranges allow (what ``make lock`` would move to: the
  requirements of ``clinicportal`` and of every locked package, and this Python) breaches them
  RUNTIME_DAYS after it came out for a component the site runs with (what ``clinicportal``
  requires, and what those require), TOOL_DAYS after for a tool used only to build and test it
  (the rest of the lock);
- a pinned release its authors withdrew (yanked) breaches them at once.

Exits 1 when a frame is breached, 2 when the audit cannot finish (the index does not answer),
0 otherwise; what falls due later is listed either way. Where the index does not answer for the
pinned version, the vulnerabilities of the newest release are read when the pin is the newest;
for the other pins only the newer-release frames apply, and the audit says how many those are.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import http.client
import importlib.metadata
import json
import platform
import re
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

VULNERABILITY_DAYS = 7
RUNTIME_DAYS = 30
TOOL_DAYS = 90
INDEX = "https://pypi.org/pypi"
TIMEOUT = 20
TRIES = 3
ROOT = "clinicportal"
LOCK_EXTRAS = ("demo", "dev")  # as requirements.lock is made (make lock)
EXCEPTIONS = Path(__file__).with_name("audit_exceptions.txt")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", re.MULTILINE)


@dataclass(frozen=True)
class Finding:
    package: str
    pinned: str
    what: str
    due: datetime.date | None  # None: nothing falls due (a mitigation is recorded)

    def line(self) -> str:
        due = f"; due {self.due.isoformat()}" if self.due else ""
        return f"{self.package}=={self.pinned}: {self.what}{due}"


@dataclass
class Audit:
    findings: list[Finding]
    unread: bool  # the pinned version's own vulnerabilities could not be read


class AuditFailed(Exception):
    """The audit cannot finish; the message says why."""


def requirements(root: str = ROOT, extras: tuple[str, ...] = ()) -> dict[str, SpecifierSet]:
    """Return each package ``root`` needs with ``extras`` (and what those need, read from the
    installed distributions), and the range of versions all of them together allow."""
    ranges: dict[str, SpecifierSet] = defaultdict(SpecifierSet)
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset(extras))]
    while todo:
        name, wanted_extras = todo.pop()
        if (name, wanted_extras) in seen:
            continue
        seen.add((name, wanted_extras))
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError:
            if name == root:
                raise AuditFailed(f"{root} is not installed: run make install first") from None
            continue
        for text in requires:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(
                marker.evaluate({"extra": extra}) for extra in (*wanted_extras, "")
            ):
                key = canonicalize_name(requirement.name)
                ranges[key] &= requirement.specifier
                todo.append((requirement.name, frozenset(requirement.extras)))
    return dict(ranges)


def _get(url: str) -> Any:
    """Return the JSON at ``url``, or None when the index has no such page; try again after a
    moment when the index fails or is slow."""
    for attempt in range(TRIES):
        try:
            # The scheme is http(s): main() refuses any other index.
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            if (error.code != 429 and error.code < 500) or attempt == TRIES - 1:
                raise AuditFailed(f"{url} answered {error.code}") from None
        except (OSError, http.client.HTTPException, ValueError) as error:
            if attempt == TRIES - 1:
                raise AuditFailed(f"{url} could not be read: {error}") from None
        time.sleep(2**attempt)
    raise AssertionError("unreachable")


def _day(upload_time: str) -> datetime.date:
    return datetime.datetime.fromisoformat(upload_time.rstrip("Z")).date()


def _runs_here(files: list[dict[str, Any]]) -> bool:
    """Whether any of a release's files installs on this Python."""
    python = platform.python_version()
    for file in files:
        try:
            if SpecifierSet(file.get("requires_python") or "").contains(python):
                return True
        except InvalidSpecifier:
            return True
    return False


def _releases(project: dict[str, Any]) -> dict[Version, datetime.date]:
    """Each final, not wholly yanked release with files for this Python, and the day its first
    file came."""
    releases = {}
    for text, files in project.get("releases", {}).items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        kept = [f for f in files if not f.get("yanked")]
        if kept and not version.is_prerelease and not version.is_devrelease and _runs_here(kept):
            releases[version] = min(_day(f["upload_time"]) for f in kept)
    return releases


def audit_package(
    name: str,
    pinned: str,
    *,
    runtime: bool,
    allowed: SpecifierSet,
    mitigated: dict[str, str],
    index: str,
    today: datetime.date,
) -> Audit:
    """Return when ``name==pinned`` must be updated by, for each reason it must."""
    project = _get(f"{index}/{name}/json")
    if project is None:
        raise AuditFailed(f"{name} is not on the index")
    try:
        version = Version(pinned)
    except InvalidVersion:
        raise AuditFailed(f"{name}=={pinned} in the lock is not a version") from None
    files = project.get("releases", {}).get(pinned, [])
    releases = _releases(project)
    findings = []
    if files and all(f.get("yanked") for f in files):
        findings.append(Finding(name, pinned, "its authors withdrew (yanked) this release", today))
    newer = sorted(
        day for release, day in releases.items() if release > version and release in allowed
    )
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
        this = project  # the newest release's page tells its vulnerabilities
    for vulnerability in (this or {}).get("vulnerabilities") or []:
        if vulnerability.get("withdrawn"):
            continue
        fixes = []
        for text in vulnerability.get("fixed_in") or []:
            try:
                fixed_in = Version(text)
            except InvalidVersion:
                continue
            if fixed_in > version and fixed_in in releases:
                fixes.append(releases[fixed_in])
        ident = vulnerability.get("id", "a vulnerability")
        if fixes:
            fixed = min(fixes)
            what = f"{ident}, fixed in a release of {fixed.isoformat()}"
            findings.append(
                Finding(name, pinned, what, fixed + datetime.timedelta(days=VULNERABILITY_DAYS))
            )
        elif ident in mitigated:
            findings.append(Finding(name, pinned, f"{ident}, mitigated: {mitigated[ident]}", None))
        else:
            what = (
                f"{ident} has no fixed release: mitigate it, then record how in "
                "tools/audit_exceptions.txt"
            )
            findings.append(Finding(name, pinned, what, today))
    return Audit(findings, unread=this is None)


def read_exceptions(path: Path) -> dict[str, str]:
    """The recorded mitigations: one a line, ``ID how it is mitigated``; # starts a comment."""
    if not path.exists():
        return {}
    recorded = {}
    for line in path.read_text().splitlines():
        ident, _sep, how = line.split("#", 1)[0].strip().partition(" ")
        if ident:
            recorded[ident] = how.strip() or "recorded"
    return recorded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=Path("requirements.lock"))
    parser.add_argument("--index", default=INDEX, help="the JSON API's address (PyPI's)")
    parser.add_argument("--exceptions", type=Path, default=EXCEPTIONS)
    parser.add_argument("--today", type=datetime.date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    if not args.index.startswith(("https://", "http://")):
        parser.error("--index must be an http(s) address")
    today = args.today or datetime.datetime.now(datetime.UTC).date()
    pins = PIN.findall(args.lock.read_text())
    mitigated = read_exceptions(args.exceptions)

    def audit(pin: tuple[str, str]) -> Audit:
        name, pinned = pin
        key = canonicalize_name(name)
        return audit_package(
            name,
            pinned,
            runtime=key in runtime,
            allowed=allowed.get(key, SpecifierSet()),
            mitigated=mitigated,
            index=args.index,
            today=today,
        )

    try:
        runtime = set(requirements())
        allowed = requirements(extras=LOCK_EXTRAS)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            audits = list(pool.map(audit, pins))
    except AuditFailed as error:
        print(f"The audit could not finish: {error}", file=sys.stderr)
        return 2
    findings = [finding for done in audits for finding in done.findings]
    breached = [f for f in findings if f.due and f.due <= today]
    later = [f for f in findings if f not in breached]
    for heading, group in (("Past its time frame", breached), ("Due later", later)):
        if group:
            print(f"{heading}:")
            for finding in sorted(group, key=lambda f: f.due or datetime.date.max):
                print(f"  {finding.line()}")
    unread = sum(done.unread for done in audits)
    if unread:
        print(
            f"The index did not say which vulnerabilities {unread} pinned versions have (it "
            "answers only for the newest release); the newer-release time frames bound them."
        )
    print(
        f"{len(pins)} locked packages checked: {len(breached)} past their time frame, "
        f"{len(later)} due later."
    )
    return 1 if breached else 0


if __name__ == "__main__":
    sys.exit(main())
