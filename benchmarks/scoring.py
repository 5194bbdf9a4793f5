"""Throughput of the scoring engine on one core: `score()` alone and `score()` + `flags_for()`.

    python benchmarks/scoring.py                      # this checkout, best of 3 passes
    python benchmarks/scoring.py --before a6d3a3b     # and an older commit, interleaved rounds
    python benchmarks/scoring.py --before a6d3a3b --callgrind   # instruction counts (valgrind)
    python benchmarks/scoring.py --before a6d3a3b --profile     # cProfile: the top costs

The input is a deterministic, realistic mix (`--count`, default 50,000; `--seed`): patients
followed over time with one instrument each (IPOS patient 35 %, ESAS-r 30 %, IPOS staff 15 %,
Abbey 10 %, ROAG 10 %), ratings mostly low and drifting from one assessment to the next (so
the rise rules see real rises and falls), some incomplete assessments, `cannot_assess`,
`not_applicable` (ROAG dentures; teeth and gums together), and the context fields (main
problems, other symptoms, who helped, the ESAS-r other problem, Abbey pain type). Each
assessment is flagged against the same patient's previous one, as the app does; a patient's
first assessment has no previous.

`--order` sets the order in which the mix is scored and flagged. `arrival` (the default)
interleaves the patients as their assessments arrive, so each patient's previous score is kept
from about `count / 12` assessments earlier: the cost of live entry across a region. `patient`
takes each patient's assessments together, in the same order within the patient, as a
re-flagging job reading `ORDER BY patient, instrument, observed_at` would: the same scores and
the same flags, each against a previous score made just before. At 20,000 assessments the two
run the same instructions, but in arrival order the 1,667 previous scores in flight no longer
fit the CPU caches (benchmarks/RESULTS.md, "Scoring engine", fourth round).

Wall-clock figures depend on what else the machine runs: every figure is printed with the load
average beside it. With `--before REV` the old commit's `pallapp/scoring` is extracted from git
into a temporary folder and imported under another name, and the two take turns in each round
(old, new, new, old, ...), so both see the same machine; the ratios are the figures to read
under load. `--callgrind` counts the instructions of one pass instead (valgrind's callgrind,
`valgrind` must be installed): each implementation runs in a subprocess once with one pass and
once with three, and the difference divided by two passes is the cost of one pass without the
start-up and the input generation. Instruction counts do not change with the load.
`--clock cpu` times with the process's CPU time instead of the wall clock: time spent waiting
for a core while other processes run is left out (their use of the shared caches is not).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from operator import itemgetter
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

# Share of each instrument in the mix: self-report dominates, staff tools follow.
MIX = (("ipos_patient", 35), ("esas_r", 30), ("ipos_staff", 15), ("abbey", 10), ("roag", 10))
LABELS = ("Itching", "Hiccups", "Sleeplessness", "Pain at night", "Worried about money")
OTHER_PROBLEMS = ("Itching", "Hiccups", "Dry mouth")

Entry = tuple[int, str, dict[str, object]]  # patient, instrument code, answers


#: The clock of every timing: the wall clock, or with `--clock cpu` the process's CPU time.
clock = time.perf_counter


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def _skewed(rng: random.Random, low: int, high: int) -> int:
    """Most ratings are low, a few high, as in clinical data."""
    return low + int((high - low + 1) * rng.random() ** 1.8)


def _drift(rng: random.Random, value: int, low: int, high: int) -> int:
    """The next rating of the same item: usually the same or one step off, now and then a jump."""
    roll = rng.random()
    if roll < 0.45:
        return value
    if roll < 0.9:
        step = rng.choice((-1, 1))
    else:
        step = rng.randint(-(high - low) // 3 - 1, (high - low) // 3 + 1)
    return min(high, max(low, value + step))


def _answers(
    rng: random.Random, scoring: ModuleType, code: str, last: dict[str, int]
) -> dict[str, object]:
    """One assessment; `last` holds the patient's latest integer ratings and is updated."""
    definition = scoring.INSTRUMENTS[code]
    answers: dict[str, object] = {}
    incomplete = rng.random() < 0.08
    for item in definition.items:
        if item.optional and rng.random() < 0.8:
            continue
        if incomplete and rng.random() < 0.2:
            answers[item.code] = None
            continue
        if item.special_values and rng.random() < 0.04:
            answers[item.code] = item.special_values[0]
            continue
        before = last.get(item.code)
        if before is None:
            value = _skewed(rng, item.min, item.max)
        else:
            value = _drift(rng, before, item.min, item.max)
        last[item.code] = value
        answers[item.code] = value
    for joint in definition.joint_answers:
        # A joint answer (ROAG no own teeth) drawn for one of its items is given to all of them.
        if any(answers.get(item) == joint.value for item in joint.items):
            answers.update(dict.fromkeys(joint.items, joint.value))
    if code == "ipos_patient" and rng.random() < 0.5:
        answers["completed_with"] = rng.choice(("alone", "with_relative", "with_staff"))
    if code.startswith("ipos") and rng.random() < 0.3:
        answers["main_problems"] = rng.sample(LABELS, rng.randint(1, 3))
        answers["other_symptoms"] = [
            {"label": label, "rating": rng.randint(0, 4)}
            for label in rng.sample(LABELS, rng.randint(0, 2))
        ]
    if code == "esas_r" and answers.get("other") is not None:
        answers["other_label"] = rng.choice(OTHER_PROBLEMS)
    if code == "abbey" and rng.random() < 0.5:
        answers["pain_type"] = rng.choice(("chronic", "acute", "acute_on_chronic"))
    return answers


def make_mix(scoring: ModuleType, count: int, seed: int, order: str = "arrival") -> list[Entry]:
    """`count` assessments of patients followed over time, interleaved as they arrive, or with
    `order="patient"` each patient's together (the same order within each patient)."""
    rng = random.Random(seed)
    codes = [code for code, _share in MIX]
    weights = [share for _code, share in MIX]
    patients = max(1, count // 12)  # about a dozen assessments each within the mix
    instrument = rng.choices(codes, weights, k=patients)
    last: list[dict[str, int]] = [{} for _patient in range(patients)]
    mix: list[Entry] = []
    for _index in range(count):
        patient = rng.randrange(patients)
        code = instrument[patient]
        mix.append((patient, code, _answers(rng, scoring, code, last[patient])))
    if order == "patient":
        mix.sort(key=itemgetter(0))  # stable: each patient's assessments keep their order
    return mix


def load_scoring_at(revision: str, folder: Path) -> ModuleType:
    """`pallapp/scoring` as it was at `revision`, imported as the package `scoring_<rev>`."""
    target = folder / "scoring_before"
    target.mkdir()
    archive = subprocess.run(  # noqa: S603 - git with our arguments
        ["git", "-C", str(ROOT), "archive", revision, "pallapp/scoring"],  # noqa: S607
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(  # noqa: S603 - tar with our arguments
        ["tar", "-x", "--strip-components=2", "-C", str(target)],  # noqa: S607
        input=archive,
        check=True,
    )
    name = "scoring_before"
    spec = importlib.util.spec_from_file_location(
        name, target / "__init__.py", submodule_search_locations=[str(target)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def score_pass(scoring: ModuleType, mix: list[Entry]) -> float:
    score = scoring.score
    start = clock()
    for _patient, code, answers in mix:
        score(code, answers)
    return clock() - start


def flags_pass(scoring: ModuleType, mix: list[Entry]) -> tuple[float, int]:
    score = scoring.score
    flags_for = scoring.flags_for
    previous: dict[int, Any] = {}
    raised = 0
    start = clock()
    for patient, code, answers in mix:
        current = score(code, answers)
        raised += len(flags_for(current, previous.get(patient)))
        previous[patient] = current
    return clock() - start, raised


def _flag_key(flag: Any) -> tuple[object, ...]:
    return (flag.code, flag.severity, flag.items, dict(flag.params))


def _score_key(result: Any) -> tuple[object, ...]:
    return (
        result.instrument,
        result.total,
        dict(result.subscales),
        result.band,
        dict(result.item_bands),
        result.missing,
        result.max_grade,
        dict(result.areas_at),
        result.plain_answers(),
    )


def check_same(before: ModuleType, after: ModuleType, mix: list[Entry]) -> None:
    """Both implementations give the same scores and flags for the whole mix."""
    previous: dict[str, dict[int, Any]] = {"before": {}, "after": {}}
    for patient, code, answers in mix:
        results = []
        for label, scoring in (("before", before), ("after", after)):
            current = scoring.score(code, answers)
            flags = scoring.flags_for(current, previous[label].get(patient))
            previous[label][patient] = current
            results.append((_score_key(current), [_flag_key(flag) for flag in flags]))
        if results[0] != results[1]:
            raise SystemExit(f"different results for {code} {answers!r}: {results}")


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:10,.0f} assessments/s"


def run_alone(scoring: ModuleType, mix: list[Entry], passes: int) -> None:
    score_pass(scoring, mix)  # warm-up
    times = [score_pass(scoring, mix) for _pass in range(passes)]
    print(
        f"score():               {rate(len(mix), min(times))}  (best of {passes})  {load_average()}"
    )
    flag_times = []
    raised = 0
    for _pass in range(passes):
        elapsed, raised = flags_pass(scoring, mix)
        flag_times.append(elapsed)
    print(
        f"score() + flags_for(): {rate(len(mix), min(flag_times))}  (best of {passes}; "
        f"{raised:,} flags)  {load_average()}"
    )


def run_interleaved(before: ModuleType, after: ModuleType, mix: list[Entry], rounds: int) -> None:
    score_pass(before, mix)
    score_pass(after, mix)
    work: dict[str, Callable[[ModuleType], float]] = {
        "score()": lambda scoring: score_pass(scoring, mix),
        "score() + flags_for()": lambda scoring: flags_pass(scoring, mix)[0],
    }
    for label, measure in work.items():
        times: dict[str, list[float]] = {"before": [], "after": []}
        ratios = []
        for index in range(rounds):
            order = [("before", before), ("after", after)]
            if index % 2:
                order.reverse()
            for name, scoring in order:
                times[name].append(measure(scoring))
            ratios.append(times["before"][-1] / times["after"][-1])
            print(
                f"  round {index + 1}: {label:22} before {rate(len(mix), times['before'][-1])}"
                f"  after {rate(len(mix), times['after'][-1])}  x{ratios[-1]:.2f}  {load_average()}"
            )
        print(
            f"{label:22} before {rate(len(mix), min(times['before']))}  after "
            f"{rate(len(mix), min(times['after']))} (best of {rounds});  speed-up x"
            f"{statistics.median(ratios):.2f} median, x{min(ratios):.2f}-x{max(ratios):.2f}"
            f"  {load_average()}"
        )


def _collected(command: list[str]) -> int:
    """Instructions callgrind counted for `command`."""
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(  # noqa: S603 - valgrind running this script
            [  # noqa: S607 - valgrind from PATH
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={folder}/callgrind.out",
                *command,
            ],
            capture_output=True,
            text=True,
            check=True,
            # The same string hashes in every run: dict and set work the same way each time.
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
    match = re.search(r"Collected : (\d+)", result.stderr)
    if match is None:
        raise SystemExit(f"no instruction count from callgrind:\n{result.stderr}")
    return int(match.group(1))


def run_callgrind(args: argparse.Namespace) -> None:
    """Instructions per assessment, old and new, for both workloads."""
    base = [sys.executable, __file__, "--count", str(args.count), "--seed", str(args.seed)]
    base += ["--order", args.order]
    if args.before:
        base += ["--before", args.before]
    impls = ["before", "after"] if args.before else ["after"]
    per: dict[tuple[str, str], float] = {}
    for work in ("score", "flags"):
        for impl in impls:
            counts = [_collected([*base, "--one", f"{work}:{impl}:{passes}"]) for passes in (1, 3)]
            per[work, impl] = (counts[1] - counts[0]) / (2 * args.count)
            print(f"{work:6} {impl:6} {per[work, impl]:10,.0f} instructions per assessment")
        if args.before:
            ratio = per[work, "before"] / per[work, "after"]
            print(f"{work:6} before/after: x{ratio:.2f} fewer instructions")


def run_profile(scorings: dict[str, ModuleType], mix: list[Entry]) -> None:
    """cProfile of one score() + flags_for() pass per implementation: the top costs."""
    import cProfile
    import pstats

    for label, scoring in scorings.items():
        profile = cProfile.Profile()
        profile.runcall(flags_pass, scoring, mix)
        print(f"--- {label}: top 12 by own time, score() + flags_for() on {len(mix):,}")
        stats = pstats.Stats(profile)
        stats.strip_dirs().sort_stats("tottime").print_stats(12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument(
        "--order",
        choices=("arrival", "patient"),
        default="arrival",
        help="patients interleaved as assessments arrive, or each patient's together",
    )
    parser.add_argument("--passes", type=int, default=3, help="passes without --before")
    parser.add_argument("--rounds", type=int, default=6, help="interleaved rounds with --before")
    parser.add_argument("--before", metavar="REV", help="compare with this commit's scoring")
    parser.add_argument("--callgrind", action="store_true", help="count instructions instead")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall", help="wall clock or CPU time"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one pass of each")
    parser.add_argument("--one", metavar="WORK:IMPL:PASSES", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global clock  # noqa: PLW0603 - chosen once, before any timing
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.callgrind:
        run_callgrind(args)
        return

    after = importlib.import_module("pallapp.scoring")
    with tempfile.TemporaryDirectory() as folder:
        before = load_scoring_at(args.before, Path(folder)) if args.before else None
        mix = make_mix(after, args.count, args.seed, args.order)
        # The input stays alive for the whole run; keep it out of the cyclic collector's sight
        # so that the timings measure scoring, not GC passes over the input.
        gc.collect()
        gc.freeze()
        if args.one:  # one callgrind measurement: untimed passes of one workload
            work, impl, passes = args.one.split(":")
            scoring = before if impl == "before" else after
            assert scoring is not None
            for _pass in range(int(passes)):
                if work == "score":
                    score_pass(scoring, mix)
                else:
                    flags_pass(scoring, mix)
            return
        counts = {code: sum(1 for _p, c, _a in mix if c == code) for code, _share in MIX}
        with_previous = len(mix) - len({patient for patient, _c, _a in mix})
        print(
            f"{len(mix):,} assessments (seed {args.seed}, {args.order} order), {with_previous:,} "
            f"with a previous one: {counts}"
        )
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.clock} clock, "
            f"{load_average()}"
        )
        if args.profile:
            run_profile({"before": before, "after": after} if before else {"after": after}, mix)
        elif before is None:
            run_alone(after, mix, args.passes)
        else:
            check_same(before, after, mix)
            print(f"before: {args.before}; the same scores and flags for the whole mix")
            run_interleaved(before, after, mix, args.rounds)


if __name__ == "__main__":
    main()
