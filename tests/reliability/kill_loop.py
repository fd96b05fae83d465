#!/usr/bin/env python3
"""kill -9 at scale (issue 15): SIGKILL the operator at seeded moments while the mixed fleet of
tests/reliability/mixed_fleet.py converges, restart it on the same state file each time, then check that it
converges, that Azure holds no duplicate, and that each POST action was accepted exactly once (one intent each).

    tests/reliability/kill_loop.py --volumes 100 --kills 25 --seed 15

Kill moments are events of the emulator's request log, never sleeps: the Nth write or operation poll since the
operator started (N seeded, 1..--max-events), and right after the first accepted POST of each action
(transitiontocmk, changeKeyVault, renewCredentials). The flows' second stages are written once their first
stages are Ready, between kills. Exit status 0 when everything holds.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mixed_fleet as mf  # noqa: E402
from mixed_fleet import bench  # noqa: E402


def kill_nine(op):
    op.process.kill()
    op.process.wait()
    op.stop()  # the sampler thread; the process is already gone


def second_stage_due(fleet, op):
    items = op.resources()
    if not items:
        return False
    names = fleet.first_stage_names()
    return sum(bench.ready(i) for i in items if i.get("name") in names) >= len(names)


def kill_loop(args, fleet, emulator, op, work):
    """Runs the kills; returns the operator running after the last one, the kill triggers, whether the second
    stage is written."""
    schedule, posts = mf.KillSchedule(args.seed, args.max_events), mf.FirstPosts()
    threshold, base, stage, kills = schedule.next_threshold(), 0, 1, []
    expected = fleet.documents(2)
    while len(kills) < args.kills:
        log = emulator.requests()
        if stage == 1 and second_stage_due(fleet, op):
            fleet.write(work / "manifests", fleet.second_stage())
            stage = 2
            print("  second stage written after %d kills" % len(kills), flush=True)
        post = posts.new(log)
        if post or schedule.events(log) - base >= threshold:
            kill_nine(op)
            base = schedule.events(emulator.requests())
            kills.append("POST " + post if post else "event %d" % threshold)
            print("  kill %2d after %s (%d writes so far)" % (len(kills), kills[-1], len(mf.writes(log))), flush=True)
            threshold = schedule.next_threshold()
            op = mf.start_operator(args.binary, work, emulator, args.resync)
        elif stage == 2 and op.ready_count() >= expected and op.all_ready(expected):
            print("  converged before kill %d: no event left to kill on" % (len(kills) + 1))
            break
        time.sleep(0.05)
    return op, kills, stage == 2


def check(fleet, emulator, log, kills, args):
    """The figures; the list of what does not hold."""
    print("kills %d (%s)" % (len(kills), ", ".join(sorted({k.split(" ")[0] for k in kills}))))
    print("writes %d, requests %d" % (len(mf.writes(log)), len(log)))
    problems = mf.audit_report(emulator, fleet, log)
    return problems + (["only %d kills" % len(kills)] if len(kills) < args.kills else [])

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volumes", type=int, default=100, help="fleet volumes, besides the flows' (default 100)")
    parser.add_argument("--kills", type=int, default=25)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--max-events", type=int, default=12, help="a kill comes after 1..N writes or polls (default 12)")
    parser.add_argument("--lro-unit", type=float, default=1.0, help="seconds an account operation takes (default 1)")
    parser.add_argument("--resync", default="10s")
    parser.add_argument("--stall", type=int, default=120, help="fail after this many seconds without a document getting Ready")
    mf.add_common_arguments(parser)
    args = parser.parse_args()
    fleet = mf.MixedFleet(args.volumes)
    _, flags, _ = bench.operation_durations(args.binary, args.lro_unit)
    started = time.time()
    print("kill loop: %d volumes, %d documents, %d kills, seed %d" % (fleet.volumes, fleet.documents(2), args.kills, args.seed), flush=True)
    with tempfile.TemporaryDirectory(prefix="anf-kill-loop-") as scratch:
        work = Path(args.work or scratch)
        emulator = fleet.start_emulator(work, args.binary, flags + ["--fault-seed", str(args.seed)])
        op = mf.start_operator(args.binary, work, emulator, args.resync)
        try:
            op, kills, stage2 = kill_loop(args, fleet, emulator, op, work)
            if not stage2:  # fewer kills than the first stages needed: the intents still come
                bench.wait_until(lambda: second_stage_due(fleet, op), args.stall)
                fleet.write(work / "manifests", fleet.second_stage())
            seconds = bench.converge(op, fleet.documents(2), args.stall, started)
            problems = [] if seconds is not None else ["did not converge"]
            print("converged %s s after the start" % ("-" if seconds is None else "%.1f" % seconds))
            log = emulator.requests()
            (work / "requests.json").write_text(json.dumps(log))  # to look into
            problems += check(fleet, emulator, log, kills, args)
        finally:
            op.stop()
            emulator.stop()
    print("kill loop took %.1f s" % (time.time() - started))
    return mf.verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
