"""Benchmark: the sealed-agreement PDF with WeasyPrint, next to Chromium's page.pdf of the same HTML.

    uv run --frozen python bench/pdf_bench.py [--runs 20]

The agreement is built in memory (no database, no network): 10 terms giving 12 follow-up commitments,
4 signers, laid out on 3 pages (2 of agreement, 1 signature certificate). Each WeasyPrint run is what
sealing does: template to HTML, HTML to PDF/A-3a with the JSON attached. Each Chromium run loads the
same HTML (its stylesheet read from app/static by file URL; every other request aborted) and prints it
with page.pdf. The browser is started once, outside the timings, as a server would keep it running.

Memory: for WeasyPrint, the Python heap peak of one render (tracemalloc, measured in a separate run so
it does not slow the timed runs) and the peak resident size of this process; for Chromium, the peak
summed PSS of its processes, sampled every 5 ms while it renders.
"""

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.agreements.pdf import (  # noqa: E402
    STATIC_DIR,
    AcceptanceLine,
    AgreementView,
    PartyLine,
    SignatureBlock,
    agreement_html,
    agreement_json,
    commitment_rows,
    render_view_pdf,
)
from app.agreements.terms import (  # noqa: E402
    ApologyTerm,
    Instalment,
    NoContactTerm,
    OtherTerm,
    ProgramAttendanceTerm,
    RestitutionTerm,
    ServiceHoursTerm,
    canonical_text,
    term_sentence,
    text_hash,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SURVIVOR, RESPONSIBLE, GUARDIAN = 1, 2, 3


def fixture_view() -> AgreementView:
    """A realistic agreement: 10 terms, 12 commitments, 4 signers, 3 pages."""
    names = {SURVIVOR: "Rosa", RESPONSIBLE: "Dan", GUARDIAN: "Marta (Dan's guardian)"}
    first = date(2027, 1, 15)
    other_tasks = [
        "Write to the employment agency to withdraw the false reference given about Rosa.",
        "Return Rosa's identity papers and personal belongings to the program office.",
        "Take part in one follow-up review meeting with the facilitator, without Rosa present.",
        "Give the program written confirmation that the recruitment social media accounts were closed.",
        "Complete the budgeting workshop offered by the probation service and share the certificate.",
    ]
    terms = [
        ApologyTerm(owed_by=RESPONSIBLE, form="letter_through_program", due_date=first),
        RestitutionTerm(
            owed_by=RESPONSIBLE,
            currency="EUR",
            amount_cents=180_000,
            instalments=[Instalment(due_date=date(2027, m, 1), amount_cents=60_000) for m in (2, 4, 6)],
            note="Payments go through the program's client account; Rosa's bank details are never shared.",
        ),
        ServiceHoursTerm(owed_by=RESPONSIBLE, hours=80, deadline=date(2027, 9, 30), where="Harbour Food Bank"),
        ProgramAttendanceTerm(
            owed_by=RESPONSIBLE,
            program_name="the labour-rights education course",
            sessions=12,
            deadline=date(2027, 7, 31),
        ),
        NoContactTerm(owed_by=RESPONSIBLE, note="This includes messages through friends, family or social media."),
        *[
            OtherTerm(owed_by=RESPONSIBLE if n % 2 else GUARDIAN, text=task, due_date=first + timedelta(days=30 * n))
            for n, task in enumerate(other_tasks, start=1)
        ],
    ]
    text = canonical_text(case_reference="2026-0042", number=2, parties=names, terms=terms)
    sha = text_hash(text)
    sealed = datetime(2026, 12, 3, 16, 20, tzinfo=UTC)
    signers = [
        ("Survivor", "Rosa", "Rosa María Quintero", "in the portal", None),
        ("Responsible party", "Dan", "Daniel Okafor", "in person", "Fran Facilitator"),
        ("Guardian", "Marta (Dan's guardian)", "Marta Okafor", "in person", "Fran Facilitator"),
        ("Facilitator", "Fran Facilitator", "Fran Facilitator", "in person", None),
    ]
    signatures = [
        SignatureBlock(
            order=n,
            role=role,
            signer=signer,
            typed_name=typed,
            signed_at=f"3 December 2026, {16 + n}:0{n} CET",
            signed_at_utc=(sealed + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            method=method,
            recorded_by=by,
            bound_to_text=True,
            evidence="Recorded with device details, kept by the program",
        )
        for n, (role, signer, typed, method, by) in enumerate(signers, start=1)
    ]
    term_data = [
        t.model_dump(mode="json") | {"owed_by_name": names[t.owed_by], "sentence": term_sentence(t, names[t.owed_by])}
        for t in terms
    ]
    return AgreementView(
        program_name="Harbour Restorative Program",
        timezone="Europe/Madrid",
        case_reference="2026-0042",
        version_number=2,
        amends_version_number=None,
        change_note="Rosa asked for the payments to go through the program.",
        text_sha256=sha,
        canonical_text=text,
        sealed_at="3 December 2026, 21:04 CET",
        sealed_at_utc=sealed,
        parties=[PartyLine("Rosa", "Survivor"), PartyLine("Dan", "Responsible party"), PartyLine(names[3], "Guardian")],
        terms=[d["sentence"] for d in term_data],
        term_data=term_data,
        commitments=commitment_rows(terms, names),
        signatures=signatures,
        acceptances=[
            AcceptanceLine("Rosa", "Survivor", "2 December 2026, 10:15 CET", "in the portal"),
            AcceptanceLine("Dan", "Responsible party", "2 December 2026, 12:40 CET", "with a facilitator"),
        ],
    )


def pdf_pages(pdf: bytes) -> int | None:
    if not (pdfinfo := shutil.which("pdfinfo")):
        return None
    out = subprocess.run([pdfinfo, "-"], input=pdf, capture_output=True, check=True).stdout.decode()  # noqa: S603 (poppler from PATH, our own bytes)
    return next(int(line.split()[1]) for line in out.splitlines() if line.startswith("Pages:"))


def hash_on_every_page(pdf: bytes, sha: str, pages: int | None) -> str:
    if not pages or not (pdftotext := shutil.which("pdftotext")):
        return "n/a"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        command = [pdftotext, "-layout", "-f", "{n}", "-l", "{n}", file.name, "-"]
        found = sum(
            sha in subprocess.run([c.format(n=n) for c in command], capture_output=True, text=True).stdout  # noqa: S603 (fixed commands)
            for n in range(1, pages + 1)
        )
    return f"{found}/{pages}"


def summary(times: list[float]) -> tuple[float, float]:
    ms = [t * 1000 for t in times]
    return statistics.median(ms), statistics.quantiles(ms, n=20, method="inclusive")[18]


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def bench_weasyprint(view: AgreementView, runs: int) -> dict:
    started = time.perf_counter()
    pdf = render_view_pdf(view)  # the first render also loads fonts and WeasyPrint's modules
    cold = time.perf_counter() - started
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        render_view_pdf(view)
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    render_view_pdf(view)
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    pages = pdf_pages(pdf)
    return {
        "cold": cold,
        "times": times,
        "heap_peak_mib": heap_peak / 2**20,
        "rss_peak_mib": max_rss_mib(),
        "pages": pages,
        "bytes": len(pdf),
        "hash_pages": hash_on_every_page(pdf, view.text_sha256, pages),
        "pdf": pdf,
    }


def _tree(root: int) -> list[int]:
    """The processes descending from `root` whose command is Chromium (not Playwright's driver)."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                commands[int(entry)] = cmd.read().split(b"\0", 1)[0].decode(errors="replace")
            parents[int(entry)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent:
                frontier.append(pid)
                if "chrom" in commands.get(pid, ""):
                    found.append(pid)
    return found


def _pss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
    return total


class PssSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kib, self._done = 0, threading.Event()

    def run(self) -> None:
        pids, refreshed = _tree(os.getpid()), time.monotonic()
        while not self._done.is_set():
            if time.monotonic() - refreshed > 0.5:  # renderer processes come and go
                pids, refreshed = _tree(os.getpid()), time.monotonic()
            self.peak_kib = max(self.peak_kib, _pss_kib(pids))
            self._done.wait(0.005)

    def stop(self) -> None:
        self._done.set()
        self.join()


def bench_chromium(view: AgreementView, runs: int) -> dict | str:
    if not CHROMIUM.exists():
        return "skipped: /usr/bin/chromium is not installed"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "skipped: Playwright is not installed"
    # The same HTML; a <base> lets Chromium read the stylesheet from app/static like WeasyPrint does.
    html = agreement_html(view).replace("<head>", f'<head>\n<base href="{STATIC_DIR.as_uri()}/">', 1)
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        source = Path(scratch) / "agreement.html"
        source.write_text(html, encoding="utf-8")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
        version = browser.version

        def render() -> bytes:
            page.goto(source.as_uri(), wait_until="load")
            return page.pdf(format="A4", prefer_css_page_size=True, print_background=True)

        idle_kib = _pss_kib(_tree(os.getpid()))
        started = time.perf_counter()
        pdf = render()
        cold = time.perf_counter() - started
        sampler = PssSampler()
        sampler.start()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            render()
            times.append(time.perf_counter() - started)
        sampler.stop()
        browser.close()
    pages = pdf_pages(pdf)
    return {
        "version": version,
        "cold": cold,
        "times": times,
        "pss_idle_mib": idle_kib / 1024,
        "pss_peak_mib": sampler.peak_kib / 1024,
        "pages": pages,
        "bytes": len(pdf),
        "hash_pages": hash_on_every_page(pdf, view.text_sha256, pages),
        "pdf": pdf,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="write weasyprint.pdf and chromium.pdf into this folder")
    args = parser.parse_args()
    view = fixture_view()
    import weasyprint

    print(f"Agreement: {len(view.terms)} terms, {len(view.commitments)} commitments, {len(view.signatures)} signers")
    print(f"JSON attachment: {len(agreement_json(view))} bytes")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load}, Python {platform.python_version()}"
    )
    print(f"Runs: {args.runs} timed, after 1 untimed cold run\n")

    weasy = bench_weasyprint(view, args.runs)
    median, p95 = summary(weasy["times"])
    print(f"WeasyPrint {weasyprint.__version__} (PDF/A-3a, JSON attached)")
    print(f"  pages {weasy['pages']}, {weasy['bytes']:,} bytes, text hash on {weasy['hash_pages']} pages")
    print(f"  cold run {weasy['cold'] * 1000:.0f} ms")
    print(f"  median {median:.0f} ms, p95 {p95:.0f} ms")
    print(f"  peak Python heap per render {weasy['heap_peak_mib']:.1f} MiB (tracemalloc)")
    print(f"  peak RSS of this process {weasy['rss_peak_mib']:.0f} MiB (getrusage)\n")

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        (args.keep / "weasyprint.pdf").write_bytes(weasy["pdf"])
    chromium = bench_chromium(view, args.runs)
    if args.keep and not isinstance(chromium, str):
        (args.keep / "chromium.pdf").write_bytes(chromium["pdf"])
    if isinstance(chromium, str):
        print(f"Chromium page.pdf: {chromium}")
        return
    median, p95 = summary(chromium["times"])
    print(f"Chromium {chromium['version']} page.pdf (plain PDF, no attachment)")
    print(f"  pages {chromium['pages']}, {chromium['bytes']:,} bytes, text hash on {chromium['hash_pages']} pages")
    print(f"  cold run {chromium['cold'] * 1000:.0f} ms (browser already started)")
    print(f"  median {median:.0f} ms, p95 {p95:.0f} ms")
    peak, idle = chromium["pss_peak_mib"], chromium["pss_idle_mib"]
    print(f"  peak PSS of the browser's processes {peak:.0f} MiB (idle {idle:.0f} MiB)")


if __name__ == "__main__":
    main()
