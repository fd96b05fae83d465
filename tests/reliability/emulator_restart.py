#!/usr/bin/env python3
"""The emulator restarted with --state in the middle of a flow (issue 15): while the mixed fleet of
tests/reliability/mixed_fleet.py converges, the emulator ("Azure") is killed with SIGKILL and started again on its
state file and address right after the first accepted POST of each action (transitiontocmk, changeKeyVault,
renewCredentials), and after the first accepted volume PUT: each time a long-running operation is in progress. The
operator keeps running. Checked: it re-polls the operations it was polling, converges, sends each POST once,
and Azure holds no duplicate.

    tests/reliability/emulator_restart.py --volumes 20

Before each kill a drop-everything fault rule freezes the emulator so that its request log (which a restart
loses) is complete when read; the restarted emulator has no fault rule.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mixed_fleet as mf  # noqa: E402
from mixed_fleet import bench  # noqa: E402
from kill_loop import second_stage_due  # noqa: E402


def operations_in_progress(emulator):
    return sum(o.get("status") == "InProgress" for o in emulator.control("GET", "state").get("operations", []))


def volume_put_accepted(log):
    return any(e["method"] == "PUT" and "/volumes/" in e["path"].lower() and 200 <= e["status"] < 300 for e in log)


class RestartingEmulator:
    """The emulator on a fixed address and a state file; each restart keeps the log of the life that ended."""

    def __init__(self, binary, work, flags):
        self.binary, self.work, self.flags = binary, work, flags
        self.lives = []  # request logs of the earlier lives

    def restart(self, emulator):
        """Freezes, reads the log and the operations in progress, kills -9, starts again; returns the new one."""
        mf.set_faults(emulator, [{"drop": True}])
        self.lives.append(emulator.requests())
        in_progress = operations_in_progress(emulator)
        emulator.process.kill()
        emulator.process.wait()
        listen = emulator.base.split("//", 1)[1]
        return bench.Emulator(self.binary, self.work / "emulator", self.work / "world.json", self.flags, listen), in_progress


def run(args, fleet, work):
    flags = bench.operation_durations(args.binary, args.lro_unit)[1] + ["--state", str(work / "emulator-state.json")]
    listen = "127.0.0.1:%d" % bench.free_port()
    emulator = fleet.start_emulator(work, args.binary, flags, listen)
    op = mf.start_operator(args.binary, work, emulator, args.resync)
    restarter, posts, stage, restarts = RestartingEmulator(args.binary, work, flags), mf.FirstPosts(), 1, []
    started = time.time()
    try:
        while len(restarts) < 4 and time.time() - started < args.stall * 3:
            log = emulator.requests()
            if stage == 1 and second_stage_due(fleet, op):
                fleet.write(work / "manifests", fleet.second_stage())
                stage = 2
            trigger = posts.new(log) or ("volume PUT" if not restarts and volume_put_accepted(log) else None)
            if trigger:
                emulator, in_progress = restarter.restart(emulator)
                restarts.append((trigger, in_progress))
                print("  emulator restarted after the first %s, %d operations in progress" % restarts[-1], flush=True)
            time.sleep(0.05)
        seconds = bench.converge(op, fleet.documents(2), args.stall, started)
        return check(fleet, emulator, restarter.lives, restarts, seconds)
    finally:
        op.stop()
        emulator.stop()


def check(fleet, emulator, lives, restarts, seconds):
    lives = lives + [emulator.requests()]
    re_polled = mf.repolled(lives)
    print("converged %s s after the start" % ("-" if seconds is None else "%.1f" % seconds))
    print("emulator restarts %d, operations in progress at them %s, re-polled after a restart %d" % (
        len(restarts), [n for _, n in restarts], re_polled))
    problems = mf.audit_report(emulator, fleet, [e for life in lives for e in life])
    problems += [] if seconds is not None else ["did not converge"]
    problems += ["only %d restarts" % len(restarts)] if len(restarts) < 4 else []
    problems += ["no restart found an operation in progress"] if not any(n for _, n in restarts) else []
    problems += ["no operation was polled again after a restart"] if not re_polled else []
    return problems

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volumes", type=int, default=20, help="fleet volumes, besides the flows' (default 20)")
    parser.add_argument("--lro-unit", type=float, default=2.0, help="seconds an account operation takes (default 2)")
    parser.add_argument("--resync", default="10s")
    parser.add_argument("--stall", type=int, default=120)
    mf.add_common_arguments(parser)
    args = parser.parse_args()
    fleet = mf.MixedFleet(args.volumes, per_account=5)
    started = time.time()
    print("emulator restarts: %d volumes, %d documents" % (fleet.volumes, fleet.documents(2)), flush=True)
    with tempfile.TemporaryDirectory(prefix="anf-emulator-restart-") as scratch:
        problems = run(args, fleet, Path(args.work or scratch))
    print("took %.1f s" % (time.time() - started))
    return mf.verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
