"""Fallback dependency audit for machines that reach pypi.org's project JSON but not its
per-version JSON (which pip-audit needs): PyPI's project JSON lists the known vulnerabilities
of the latest release, so a locked package at its latest release is audited exactly, and one
behind it is reported as not audited here (with the version it would need).

Reads `name==version` lines on stdin; exits 1 when a locked version has a known vulnerability.
"""

import json
import sys
import urllib.request


def main() -> int:
    vulnerable, behind, audited = [], [], 0
    for line in sys.stdin:
        line = line.split("#")[0].split(";")[0].strip()
        if "==" not in line:
            continue
        name, version = (part.strip() for part in line.split("==", 1))
        url = f"https://pypi.org/pypi/{name}/json"
        with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 (fixed https host)
            project = json.load(response)
        latest = project["info"]["version"]
        if version != latest:
            behind.append(f"{name} {version} (latest {latest})")
            continue
        audited += 1
        for vuln in project.get("vulnerabilities", []):
            vulnerable.append(f"{name} {version}: {vuln.get('id')} {', '.join(vuln.get('aliases', []))}")
    print(f"dependency audit (latest-release data): {audited} packages audited, {len(vulnerable)} vulnerable")
    for entry in vulnerable:
        print(f"  VULNERABLE {entry}")
    if behind:
        print(f"  not audited here ({len(behind)} behind their latest release): {'; '.join(behind)}")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
