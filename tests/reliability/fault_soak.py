#!/usr/bin/env python3
"""Fault soak (issue 15): the mixed fleet of tests/reliability/mixed_fleet.py under the emulator's fault injection
(every ARM and Graph request: 200 ms added latency; 20% 503, 10% 429 with Retry-After, 5% dropped connections)
for --minutes. The operator is killed with SIGKILL --restarts times at seeded request-log events while the fleet
converges; once it has converged, one volume size is edited every --edit-every seconds until the time is up.
Checked: the fleet converges, no document is left Failed, Azure holds no duplicate, each POST action was accepted
once. The faults stay on until the fleet has converged under them and --minutes have passed. Printed: the faults injected, the client's retries, the operations re-polled after a restart.

    tests/reliability/fault_soak.py --volumes 200 --minutes 5      # the documented run
    tests/reliability/fault_soak.py --volumes 40 --per-account 10 --minutes 1   # CTest's bounded variant

Azure's token endpoint is not faulted (an emulator rule without pathPattern skips it). The faults' draws are seeded
(the emulator's --fault-seed, from --seed), and so are the kill moments.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mixed_fleet as mf  # noqa: E402
from mixed_fleet import bench  # noqa: E402
from kill_loop import kill_nine, second_stage_due  # noqa: E402

# Rules apply in order and the first status or drop that fires answers: the rates below are conditional so that
# the shares of all requests are 20% 503, 10% 429 and 5% dropped.
FAULTS = [{"latencyMs": 200},
          {"status": 503, "rate": 0.20},
          {"status": 429, "rate": 0.10 / 0.80, "retryAfter": 1},
          {"drop": True, "rate": 0.05 / 0.70}]


def faulted(entry):
    return entry["status"] in (0, 429, 503)


def retries(log):
    """Faulted requests sent again later (same method and path): the client's retries and the engine's requeues."""
    last = {}
    for i, e in enumerate(log):
        last[(e["method"], e["path"])] = i
    return sum(1 for i, e in enumerate(log) if faulted(e) and last[(e["method"], e["path"])] > i)


class Soak:
    def __init__(self, args, fleet, work):
        self.args, self.fleet, self.work = args, fleet, work
        self.schedule = mf.KillSchedule(args.seed, args.max_events)
        self.splits, self.sizes, self.edits, self.stage = [], {}, 0, 1  # request-log lengths at the kills
        self.first_converged = None

    def run(self, emulator):
        args, started = self.args, time.time()
        op = mf.start_operator(args.binary, self.work, emulator, args.resync)
        threshold, base, expected, last_edit = self.schedule.next_threshold(), 0, self.fleet.documents(2), time.time()
        while not (self.first_converged and time.time() - started >= args.minutes * 60):
            if time.time() - started > args.minutes * 60 + args.stall * 3:
                break  # not converged: reported as such
            log = emulator.requests()
            if self.stage == 1 and second_stage_due(self.fleet, op):
                self.fleet.write(self.work / "manifests", self.fleet.second_stage())
                self.stage = 2
            if len(self.splits) < args.restarts and self.schedule.events(log) - base >= threshold:
                kill_nine(op)
                self.splits.append(len(emulator.requests()))
                base, threshold = self.schedule.events(log), self.schedule.next_threshold()
                op = mf.start_operator(args.binary, self.work, emulator, args.resync)
                print("  %6.1f s: kill -9 %d" % (time.time() - started, len(self.splits)), flush=True)
            elif self.stage == 2 and not self.first_converged and op.ready_count() >= expected and op.all_ready(expected):
                self.first_converged = time.time() - started
                print("  %6.1f s: converged under the faults" % self.first_converged, flush=True)
            elif self.first_converged and time.time() - last_edit > args.edit_every:
                self.edit()
                last_edit = time.time()
            time.sleep(1)
        return op, time.time() - started

    def edit(self):
        """One volume one GiB larger: a write intent while the faults go on."""
        a = self.fleet.accounts[self.edits % len(self.fleet.accounts)]
        volume = a["volumes"][(self.edits // len(self.fleet.accounts)) % len(a["volumes"])]
        self.sizes[volume] = self.sizes.get(volume, bench.VOLUME_GIB) + 1
        self.fleet.write(self.work / "manifests", {a["name"] + ".yaml": mf.minimal_role(bench.account_documents(a, self.sizes))})
        self.edits += 1

    def report(self, op, emulator, faults_seconds, converged_at):
        log = emulator.requests()
        arm = [e for e in log if not e["path"].startswith("/_emulator") and "/oauth2/" not in e["path"]]
        re_polled = mf.repolled([log[a:b] for a, b in zip([0] + self.splits, self.splits + [len(log)])])
        failed = mf.failed(op)
        print("faults on for %.1f s over %d requests: 503 %d, 429 %d, dropped %d" % (
            faults_seconds, len(arm), sum(e["status"] == 503 for e in arm), sum(e["status"] == 429 for e in arm), sum(e["status"] == 0 for e in arm)))
        print("retries (faulted requests sent again) %d; operator kills %d; operations re-polled after a restart %d" % (
            retries(arm), len(self.splits), re_polled))
        print("first converged %s s after the start, again %s s after it at the end; volume edits after convergence %d" % (
            "-" if self.first_converged is None else "%.1f" % self.first_converged, "-" if converged_at is None else "%.1f" % converged_at, self.edits))
        print("documents Failed: %d%s" % (len(failed), "".join("\n  %s/%s %s: %s" % f for f in failed)))
        problems = mf.audit_report(emulator, self.fleet, log)
        problems += [] if converged_at is not None and self.first_converged else ["did not converge"]
        problems += ["%d documents Failed" % len(failed)] if failed else []
        problems += ["faults on for only %.1f s" % faults_seconds] if faults_seconds < self.args.minutes * 60 else []
        return problems

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volumes", type=int, default=200, help="fleet volumes, besides the flows' (default 200)")
    parser.add_argument("--per-account", type=int, default=20, help="volumes per account (default 20, as bench/fleet.py)")
    parser.add_argument("--minutes", type=float, default=5, help="how long the faults stay on at least (default 5)")
    parser.add_argument("--restarts", type=int, default=5, help="kill -9 of the operator while it converges (default 5)")
    parser.add_argument("--max-events", type=int, default=150, help="a kill comes after 1..N writes or polls (default 150)")
    parser.add_argument("--edit-every", type=float, default=15, help="seconds between edits once converged (default 15)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--lro-unit", type=float, default=1.0)
    parser.add_argument("--resync", default="30s")
    parser.add_argument("--stall", type=int, default=180)
    mf.add_common_arguments(parser)
    args = parser.parse_args()
    fleet = mf.MixedFleet(args.volumes, args.per_account)
    print("fault soak: %d volumes, %d documents, %.1f min, faults %s" % (fleet.volumes, fleet.documents(2), args.minutes, FAULTS), flush=True)
    with tempfile.TemporaryDirectory(prefix="anf-fault-soak-") as scratch:
        work = Path(args.work or scratch)
        flags = bench.operation_durations(args.binary, args.lro_unit)[1] + ["--fault-seed", str(args.seed)]
        emulator = fleet.start_emulator(work, args.binary, flags)
        mf.set_faults(emulator, FAULTS)
        soak, op = Soak(args, fleet, work), None
        try:
            op, faults_seconds = soak.run(emulator)
            converged_at = bench.converge(op, fleet.documents(2), args.stall, time.time() - faults_seconds)
            problems = soak.report(op, emulator, faults_seconds, converged_at)
        finally:
            if op:
                op.stop()
            emulator.stop()
    return mf.verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
