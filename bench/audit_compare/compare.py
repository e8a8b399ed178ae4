"""Assay's host audit side by side with Lynis and OpenSCAP (issue 5), in one run.

Run `bench/audit_compare/prepare.sh` first (as root): it installs Lynis, OpenSCAP and
debootstrap from Debian 12, builds a Debian 12 tree and unpacks Debian 13's ssg-debian content,
all under the work dir (`${ASSAY_BENCH_DIR:-/var/tmp/assay-bench}`), outside the repository.
Then, as root:

    .venv/bin/python bench/audit_compare/compare.py [--work DIR] [--assay-repeat 3] [--skip lynis]

What it does, in this order:

1. **lynis**: `lynis audit system --quick --no-colors` on this machine, log and report in the
   work dir. Tests executed: `lynis_tests_done` of the report file (what Lynis prints as "Tests
   performed"); the log's "Performing test ID" lines are counted as a cross-check.
2. **assay_local**: `assay audit host --json` on this machine (`--assay-repeat` times; the
   median run is reported, every run is kept). Checks executed: the results with a verdict
   (pass or fail; not-applicable and error results are counted apart).
3. **oscap**: `oscap-chroot TREE xccdf eval --profile ANSSI-BP-028 high` on the Debian 12 tree
   with the SCAP Security Guide's Debian 12 data stream: the figures for the profile as shipped.
   OpenSCAP gets a copy of the tree (it writes APT caches and an RPM database into what it
   evaluates), made before and removed after its runs, outside the timing.
4. **oscap_tailored**: the same evaluation with a tailoring file that extends the profile with
   the SSG rules of `ssg_rules.yaml` the profile does not select, and sets the XCCDF values
   listed there to Assay's thresholds; its results feed the agreement table.
5. **assay_root**: `assay audit host --root TREE --json` on the same tree.
6. **agreement**: for every pair of `ssg_rules.yaml`, Assay's status next to OpenSCAP's result
   (several SSG rules for one Assay check: fail if any fails, pass if all pass or do not
   apply), and whether they agree.

Every tool runs as a child process; wall time is measured around it and peak memory is the
largest resident set of the child or any descendant it waited for (`wait4` rusage, as
/usr/bin/time reports it). Results are printed and saved to bench/results/audit_compare.json;
raw outputs (Lynis report, XCCDF results, Assay JSON) stay in the work dir. No assertions on
time: the issue's targets are reported as met or not.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RESULTS = ROOT / "bench" / "results" / "audit_compare.json"
# prepare.sh's default work dir: root-owned, outside the repository, kept across reboots.
WORK_DEFAULT = "/var/tmp/assay-bench"  # noqa: S108
MAPPING = HERE / "ssg_rules.yaml"
ASSAY = ROOT / ".venv" / "bin" / "assay"

XCCDF_NS = "http://checklists.nist.gov/xccdf/1.2"
NS = {"x": XCCDF_NS}
RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"
VALUE_PREFIX = "xccdf_org.ssgproject.content_value_"
PROFILE = "xccdf_org.ssgproject.content_profile_anssi_bp28_high"
TAILORED_PROFILE = "xccdf_org.assay.bench_profile_anssi_bp28_high_with_assay_pairs"
TARGETS = {"assay_local_wall_s_max": 3.0, "speedup_vs_lynis_min": 15.0}

# OpenSCAP results that are a verdict about the system, and Assay's statuses in the same terms.
VERDICTS = {"pass", "fail", "notapplicable"}
ASSAY_STATUS = {"pass": "pass", "fail": "fail", "not_applicable": "notapplicable"}

XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=True
)


@dataclass
class Run:
    """One child process: its command, exit code, wall time, peak RSS and output files."""

    argv: list[str]
    returncode: int
    wall_s: float
    peak_mb: float
    cpu_s: float
    stdout: str
    stderr: str
    load_before: tuple[float, float, float] = field(default=(0.0, 0.0, 0.0))

    def figures(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 3),
            "peak_mb": round(self.peak_mb, 1),
            "cpu_s": round(self.cpu_s, 2),
            "returncode": self.returncode,
            "load_before": [round(x, 2) for x in self.load_before],
        }


def run_measured(
    argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Run:
    """Run `argv` to completion; wall time around it, rusage of it and its reaped descendants."""
    load = os.getloadavg()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    return Run(
        argv=argv,
        returncode=proc.returncode,
        wall_s=wall,
        peak_mb=usage.ru_maxrss / 1024,  # Linux reports KiB
        cpu_s=usage.ru_utime + usage.ru_stime,
        stdout=stdout,
        stderr=stderr,
        load_before=load,
    )


def log(message: str) -> None:
    print(f"[compare] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- lynis


def run_lynis(out_dir: Path) -> dict[str, Any]:
    lynis = shutil.which("lynis")
    if lynis is None:
        return {"skipped": "lynis is not installed (run prepare.sh)"}
    out_dir.mkdir(parents=True, exist_ok=True)
    logfile, report = out_dir / "lynis.log", out_dir / "lynis-report.dat"
    for path in (logfile, report):
        path.unlink(missing_ok=True)
    argv = [
        lynis,
        "audit",
        "system",
        "--quick",
        "--no-colors",
        "--logfile",
        str(logfile),
        "--report-file",
        str(report),
    ]
    log("lynis audit system --quick ...")
    run = run_measured(argv, cwd=out_dir)
    (out_dir / "lynis.stdout").write_text(run.stdout)
    data: dict[str, list[str]] = {}
    for line in report.read_text(errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            data.setdefault(key, []).append(value)
    log_text = logfile.read_text(errors="replace")
    executed = [t for t in (data.get("tests_executed") or [""])[0].split("|") if t]
    skipped = [t for t in (data.get("tests_skipped") or [""])[0].split("|") if t]
    return {
        **run.figures(),
        "version": (data.get("lynis_version") or [""])[0],
        "tests": int((data.get("lynis_tests_done") or ["0"])[0]),
        "tests_executed_listed": len(executed),
        "tests_skipped_listed": len(skipped),
        "log_performing_test_lines": log_text.count("Performing test ID"),
        "log_skipped_test_lines": log_text.count("Skipped test"),
        "warnings": len(data.get("warning[]", [])),
        "suggestions": len(data.get("suggestion[]", [])),
        "hardening_index": int((data.get("hardening_index") or ["0"])[0]),
        "report_file": str(report),
        "log_file": str(logfile),
    }


# ---------------------------------------------------------------- assay


def run_assay(argv_tail: list[str], out_file: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """One `assay audit host ... --json` run: (figures, parsed JSON)."""
    argv = [str(ASSAY), "audit", "host", *argv_tail, "--json"]
    run = run_measured(argv)
    out_file.write_text(run.stdout)
    try:
        data = json.loads(run.stdout)
    except json.JSONDecodeError:
        return {**run.figures(), "error": run.stderr[-2000:] or run.stdout[-2000:]}, {}
    results = data.get("results", [])
    by_status = Counter(r.get("status") for r in results)
    walk = data.get("walk") or {}
    figures = {
        **run.figures(),
        "checks": len(results),
        "checks_with_verdict": by_status["pass"] + by_status["fail"],
        "by_status": dict(sorted(by_status.items())),
        "internal_seconds": data.get("seconds"),
        "walk_entries": walk.get("entries"),
        "walk_seconds": walk.get("seconds"),
        "output": str(out_file),
    }
    return figures, data


def run_assay_repeated(
    argv_tail: list[str], out_dir: Path, name: str, repeat: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    runs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for i in range(repeat):
        log(f"assay audit host {' '.join(argv_tail)} --json (run {i + 1}/{repeat}) ...")
        runs.append(run_assay(argv_tail, out_dir / f"{name}-{i + 1}.json"))
    ok = [r for r in runs if "error" not in r[0]]
    if not ok:
        return runs[0][0], {}
    ordered = sorted(ok, key=lambda r: r[0]["wall_s"])
    figures, data = ordered[(len(ordered) - 1) // 2]  # the median run (lower middle if even)
    summary = dict(figures)
    summary["runs"] = [
        {k: r[0][k] for k in ("wall_s", "peak_mb", "cpu_s", "load_before")} for r in runs
    ]
    if len(ok) > 1:
        summary["wall_s_min"] = ordered[0][0]["wall_s"]
        summary["wall_s_max"] = ordered[-1][0]["wall_s"]
        summary["wall_s_median"] = statistics.median(r[0]["wall_s"] for r in ok)
    return summary, data


# ---------------------------------------------------------------- oscap


def xccdf_results(path: Path) -> dict[str, str]:
    """Rule id -> result of the (last) TestResult of an XCCDF results file."""
    tree = etree.parse(str(path), XML_PARSER)
    tests = tree.getroot().findall(".//x:TestResult", NS)
    if not tests:
        return {}
    return {
        rr.get("idref", ""): rr.findtext("x:result", default="", namespaces=NS)
        for rr in tests[-1].findall("x:rule-result", NS)
    }


def profile_rules(xccdf: Path, profile: str) -> set[str]:
    tree = etree.parse(str(xccdf), XML_PARSER)
    for prof in tree.getroot().iter(f"{{{XCCDF_NS}}}Profile"):
        if prof.get("id") == profile:
            return {
                s.get("idref", "")
                for s in prof.findall("x:select", NS)
                if s.get("selected") == "true"
            }
    raise SystemExit(f"profile {profile} not found in {xccdf}")


def benchmark_ids(xccdf: Path) -> tuple[dict[str, list[str]], set[str]]:
    """Rule id -> the ids of its enclosing groups, and all value ids, of the benchmark."""
    root = etree.parse(str(xccdf), XML_PARSER).getroot()
    rules = {
        r.get("id", ""): [g.get("id", "") for g in r.iterancestors(f"{{{XCCDF_NS}}}Group")]
        for r in root.iter(f"{{{XCCDF_NS}}}Rule")
    }
    values = {v.get("id", "") for v in root.iter(f"{{{XCCDF_NS}}}Value")}
    return rules, values


def write_tailoring(path: Path, ds: Path, extra_rules: list[str], values: dict[str, str]) -> None:
    """A tailoring that extends the ANSSI profile with `extra_rules` and sets `values`.

    `extra_rules` holds group ids too: a rule is only evaluated when every group around it is
    selected, and the profile deselects the groups in which it selects no rule (e.g.
    network-uncommon, where kernel_module_rds_disabled lives). Selecting such a group adds
    nothing else, since the rules in it are not selected by default.
    """
    x = f"{{{XCCDF_NS}}}"
    root = etree.Element(
        f"{x}Tailoring", nsmap={"xccdf": XCCDF_NS}, id="xccdf_org.assay.bench_tailoring_compare"
    )
    etree.SubElement(root, f"{x}benchmark", href=str(ds))
    stamp = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    etree.SubElement(root, f"{x}version", time=stamp).text = "1"
    prof = etree.SubElement(root, f"{x}Profile", id=TAILORED_PROFILE, extends=PROFILE)
    etree.SubElement(
        prof, f"{x}title"
    ).text = "ANSSI-BP-028 (high) plus the rules paired with Assay checks"
    for rule in extra_rules:
        etree.SubElement(prof, f"{x}select", idref=rule, selected="true")
    for value_id, value in values.items():
        etree.SubElement(prof, f"{x}set-value", idref=value_id).text = value
    etree.ElementTree(root).write(
        str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


def run_oscap(
    tree: Path,
    ds: Path,
    out_dir: Path,
    name: str,
    apt_conf: Path,
    profile: str,
    tailoring: Path | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    results = out_dir / f"{name}-results.xml"
    results.unlink(missing_ok=True)
    argv = ["oscap-chroot", str(tree), "xccdf", "eval", "--profile", profile]
    if tailoring is not None:
        argv += ["--tailoring-file", str(tailoring)]
    argv += ["--results", str(results), str(ds)]
    env = dict(os.environ)
    if apt_conf.is_file():
        env["APT_CONFIG"] = str(apt_conf)
    log(f"oscap-chroot ... --profile {profile} ...")
    run = run_measured(argv, env=env, cwd=out_dir)
    (out_dir / f"{name}.stdout").write_text(run.stdout)
    (out_dir / f"{name}.stderr").write_text(run.stderr)
    if not results.is_file():
        return {**run.figures(), "error": run.stderr[-2000:]}, {}
    by_rule = xccdf_results(results)
    by_status = Counter(by_rule.values())
    evaluated = sum(n for status, n in by_status.items() if status != "notselected")
    figures = {
        **run.figures(),
        "profile": profile,
        "rules_evaluated": evaluated,
        "rules_with_verdict": sum(by_status[s] for s in ("pass", "fail")),
        "by_status": dict(sorted(by_status.items())),
        "stderr_messages": sorted(
            {line.strip() for line in run.stderr.splitlines() if line.strip()}
        )[:20],
        "results_file": str(results),
    }
    return figures, by_rule


# ---------------------------------------------------------------- agreement


def load_mapping() -> tuple[dict[str, list[str]], dict[str, str]]:
    data = yaml.safe_load(MAPPING.read_text())
    pairs = {check: list(rules) for check, rules in (data.get("pairs") or {}).items()}
    values = {str(k): str(v) for k, v in (data.get("values") or {}).items()}
    return pairs, values


def combined(results: list[str]) -> str:
    """One verdict for several SSG rules that together test what one Assay check tests."""
    if "fail" in results:
        return "fail"
    if results and all(r == "notapplicable" for r in results):
        return "notapplicable"
    if results and all(r in ("pass", "notapplicable") for r in results):
        return "pass"
    for other in ("error", "unknown", "notchecked", "notselected", "informational"):
        if other in results:
            return other
    return "missing"


def agreement(
    pairs: dict[str, list[str]], assay: dict[str, Any], oscap: dict[str, str]
) -> dict[str, Any]:
    by_id = {r["id"]: r for r in assay.get("results", [])}
    rows: list[dict[str, Any]] = []
    for check, rules in pairs.items():
        result = by_id.get(check)
        a_status = result["status"] if result else "missing"
        o_each = {rule: oscap.get(RULE_PREFIX + rule, "missing") for rule in rules}
        o_status = combined(list(o_each.values()))
        a_verdict = ASSAY_STATUS.get(a_status)
        compared = a_verdict is not None and o_status in VERDICTS
        rows.append(
            {
                "check": check,
                "ssg_rules": o_each,
                "assay": a_status,
                "oscap": o_status,
                "compared": compared,
                "agree": (a_verdict == o_status) if compared else None,
                "assay_observed": (result or {}).get("observed", ""),
            }
        )
    compared_rows = [r for r in rows if r["compared"]]
    agree = [r for r in compared_rows if r["agree"]]
    return {
        "pairs": len(rows),
        "compared": len(compared_rows),
        "agree": len(agree),
        "agree_by_verdict": dict(sorted(Counter(r["oscap"] for r in agree).items())),
        "disagree": len(compared_rows) - len(agree),
        "not_compared": [r["check"] for r in rows if not r["compared"]],
        "ssg_rules": sum(len(r["ssg_rules"]) for r in rows),
        "list": rows,
    }


# ---------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    cpu = mem_total = ""
    with contextlib.suppress(OSError):
        models = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = models[0] if models else ""
    with contextlib.suppress(OSError, IndexError):
        mem_total = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    container = Path("/.dockerenv").exists() or Path("/run/.containerenv").exists()
    return {
        "date": datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
        "hostname": platform.node(),
        "kernel": platform.release(),
        "os": _os_release(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": mem_total,
        "container": container,
        "python": platform.python_version(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def _os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return ""


def tool_versions(tree: Path) -> dict[str, str]:
    def first_line(argv: list[str]) -> str:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
        except OSError:
            return ""
        return out.strip().splitlines()[0] if out.strip() else ""

    debian_version = tree / "etc" / "debian_version"
    return {
        "oscap": first_line(["oscap", "--version"]),
        "lynis": first_line(["lynis", "--version"]),
        "tree_debian_version": debian_version.read_text().strip()
        if debian_version.is_file()
        else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(os.environ.get("ASSAY_BENCH_DIR", WORK_DEFAULT)),
        help="the work dir prepare.sh filled (default: $ASSAY_BENCH_DIR or /var/tmp/assay-bench)",
    )
    parser.add_argument(
        "--assay-repeat", type=int, default=3, help="runs of each Assay audit (median reported)"
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["lynis", "assay_local", "oscap", "oscap_tailored", "assay_root"],
        help="leave a section out (repeatable; for trying things, not for the figures)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    work: Path = args.work
    tree = work / "debian12"
    content = work / "ssg" / "usr" / "share" / "xml" / "scap" / "ssg" / "content"
    ds = content / "ssg-debian12-ds.xml"
    xccdf = content / "ssg-debian12-xccdf.xml"
    missing = [str(p) for p in (tree, ds, xccdf) if not p.exists()]
    if missing:
        log(f"missing {', '.join(missing)}: run bench/audit_compare/prepare.sh first")
        return 2
    if os.geteuid() != 0:
        log("run as root: Lynis, oscap-chroot and Assay's walk need to read every file")
        return 2
    runs = work / "runs" / datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
    runs.mkdir(parents=True, exist_ok=True)

    out: dict[str, Any] = {
        "machine": machine(),
        "tools": tool_versions(tree),
        "work_dir": str(work),
        "runs_dir": str(runs),
        "targets": TARGETS,
    }

    if "lynis" not in args.skip:
        out["lynis"] = run_lynis(runs / "lynis")
    if "assay_local" not in args.skip:
        out["assay_local"], _ = run_assay_repeated([], runs / "assay", "local", args.assay_repeat)
    lynis, local = out.get("lynis", {}), out.get("assay_local", {})
    if lynis.get("wall_s") and local.get("wall_s"):
        out["speedup_vs_lynis"] = round(lynis["wall_s"] / local["wall_s"], 1)
        out["targets_met"] = {
            "assay_local_under_3_s": local["wall_s"] < TARGETS["assay_local_wall_s_max"],
            "speedup_at_least_15": out["speedup_vs_lynis"] >= TARGETS["speedup_vs_lynis_min"],
            "checks_at_least_lynis_tests": local.get("checks", 0) >= lynis.get("tests", 0),
            # Lynis does not count the tests it skips; Assay's not-applicable checks are the
            # counterpart, so this is the stricter reading of "as many checks executed".
            "checks_with_verdict_at_least_lynis_tests": (
                local.get("checks_with_verdict", 0) >= lynis.get("tests", 0)
            ),
        }

    pairs, values = load_mapping()
    all_rules, all_values = benchmark_ids(xccdf)
    unknown = [r for rules in pairs.values() for r in rules if RULE_PREFIX + r not in all_rules]
    unknown += [v for v in values if VALUE_PREFIX + v not in all_values]
    if unknown:
        log(f"ssg_rules.yaml names ids the data stream does not have: {unknown}")
        return 2
    in_profile = profile_rules(xccdf, PROFILE)

    # OpenSCAP writes into the tree it evaluates (APT rebuilds its caches there, librpm creates
    # /root/.rpmdb), so it gets a copy, made before and removed after the timed runs; the tree
    # Assay audits stays as debootstrap left it.
    #
    # Its dpkginfo probe reads the tree's package database through libapt-pkg with RootDir set
    # to the tree, but libapt-pkg takes its configuration from the host's /etc/apt/apt.conf.d.
    # Host settings such as Docker images' `Dir::Cache::pkgcache "";` then make it fail (APT
    # tries to save its cache as the tree's root directory) and every package-based rule and
    # platform, the "has a kernel" test included, comes out unknown. APT_CONFIG points APT at
    # the tree's own configuration instead.
    oscap_tree = work / "debian12-oscap"
    apt_conf = work / "oscap-apt.conf"
    if not {"oscap", "oscap_tailored"} <= set(args.skip):
        log(f"copying the tree for OpenSCAP to {oscap_tree} ...")
        shutil.rmtree(oscap_tree, ignore_errors=True)
        subprocess.run(["/bin/cp", "-a", str(tree), str(oscap_tree)], check=True)
        apt_conf.write_text(
            f'Dir::Etc::parts "{oscap_tree}/etc/apt/apt.conf.d";\n'
            f'Dir::Etc::main "{oscap_tree}/etc/apt/apt.conf";\n'
        )

    if "oscap" not in args.skip:
        out["oscap"], _ = run_oscap(oscap_tree, ds, runs / "oscap", "anssi-high", apt_conf, PROFILE)
        out["oscap"]["apt_config"] = str(apt_conf) if apt_conf.is_file() else None
    oscap_rules: dict[str, str] = {}
    if "oscap_tailored" not in args.skip:
        added = {RULE_PREFIX + r for rules in pairs.values() for r in rules} - in_profile
        groups = {g for rule in added for g in all_rules[rule]}
        extra = sorted(groups) + sorted(added)
        tailoring = runs / "oscap" / "tailoring.xml"
        tailoring.parent.mkdir(parents=True, exist_ok=True)
        write_tailoring(tailoring, ds, extra, {VALUE_PREFIX + k: v for k, v in values.items()})
        out["oscap_tailored"], oscap_rules = run_oscap(
            oscap_tree, ds, runs / "oscap", "tailored", apt_conf, TAILORED_PROFILE, tailoring
        )
        out["oscap_tailored"]["rules_added_to_profile"] = len(added)
        out["oscap_tailored"]["groups_selected"] = len(groups)
        out["oscap_tailored"]["values_set"] = values
        out["oscap_tailored"]["tailoring_file"] = str(tailoring)

    shutil.rmtree(oscap_tree, ignore_errors=True)

    assay_root: dict[str, Any] = {}
    if "assay_root" not in args.skip:
        out["assay_root"], assay_root = run_assay_repeated(
            ["--root", str(tree)], runs / "assay", "root", args.assay_repeat
        )
        if out.get("oscap", {}).get("wall_s") and out["assay_root"].get("wall_s"):
            out["assay_root"]["speedup_vs_oscap"] = round(
                out["oscap"]["wall_s"] / out["assay_root"]["wall_s"], 1
            )

    if oscap_rules and assay_root:
        out["agreement"] = agreement(pairs, assay_root, oscap_rules)
        for row in out["agreement"]["list"]:
            row["in_anssi_high"] = {
                rule: (RULE_PREFIX + rule) in in_profile for rule in row["ssg_rules"]
            }
    out["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=2) + "\n")
    if "agreement" in out:
        table = args.output.with_suffix(".md")
        table.write_text(markdown_table(out["agreement"]))
        log(f"agreement table: {table}")
    print_summary(out)
    log(f"saved {args.output}")
    return 0


def markdown_table(agree: dict[str, Any]) -> str:
    """The agreement table as Markdown rows, for docs/audit-comparison.md."""
    lines = [
        "| Assay check | SSG rule(s) | Assay | OpenSCAP | Agree |",
        "|---|---|---|---|---|",
    ]
    for row in agree["list"]:
        rules = ", ".join(
            f"`{rule}`" + ("" if result == row["oscap"] else f" ({result})")
            for rule, result in row["ssg_rules"].items()
        )
        mark = {True: "yes", False: "**no**", None: "not compared"}[row["agree"]]
        lines.append(f"| `{row['check']}` | {rules} | {row['assay']} | {row['oscap']} | {mark} |")
    return "\n".join(lines) + "\n"


def print_summary(out: dict[str, Any]) -> None:
    def line(name: str, section: dict[str, Any], count_key: str, count_label: str) -> None:
        if not section or "wall_s" not in section:
            return
        print(
            f"{name:<16} wall {section['wall_s']:>8.2f} s   peak {section['peak_mb']:>7.1f} MiB"
            f"   {count_label} {section.get(count_key)}"
        )

    line("lynis", out.get("lynis", {}), "tests", "tests")
    line("assay local", out.get("assay_local", {}), "checks", "checks")
    if "speedup_vs_lynis" in out:
        print(f"{'':<16} speedup vs lynis: {out['speedup_vs_lynis']}x  {out.get('targets_met')}")
    line("oscap (anssi)", out.get("oscap", {}), "rules_evaluated", "rules")
    line("oscap tailored", out.get("oscap_tailored", {}), "rules_evaluated", "rules")
    line("assay --root", out.get("assay_root", {}), "checks", "checks")
    for name in ("oscap", "oscap_tailored"):
        if "by_status" in out.get(name, {}):
            print(f"{name} by status: {out[name]['by_status']}")
    agree = out.get("agreement")
    if agree:
        print(
            f"\nagreement: {agree['pairs']} pairs, {agree['compared']} compared, "
            f"{agree['agree']} agree, {agree['disagree']} disagree"
        )
        for row in agree["list"]:
            mark = {True: "yes", False: "NO", None: "-"}[row["agree"]]
            print(f"  {row['check']:<40} assay {row['assay']:<15} oscap {row['oscap']:<14} {mark}")


if __name__ == "__main__":
    sys.exit(main())
