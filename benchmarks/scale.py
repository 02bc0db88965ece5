#!/usr/bin/env python
"""Scale-out of ``lumos bench``: the Ray backend's parallel efficiency, a multi-node rehearsal on one machine,
the driver's memory on a 1,000,000-row tabular bench, and a projection for a 1M-example spec on N nodes.

Parts (all by default, or the ones named):
- ``efficiency``: one perturbation-heavy spec (KernelSHAP, ``--samples`` coalitions, on the zoo's Adult
  logistic regression) run by the local runner, then by Ray with 1 and with 2 workers (a local Ray started
  with ``num_cpus`` 1 and 2; each warmed by a one-unit run first, so workers have imported lumos and loaded the
  model). Wall time of the whole run and of its unit phase (first unit handed out -> last unit stored); every
  run must store the same numbers.
- ``nodes``: a head (no CPUs) and two worker nodes (1 CPU each) started as separate ``ray start --block``
  processes on loopback addresses; ``lumos bench --backend ray --address`` joins; as soon as a unit is stored
  and the second worker node is running one (or a third of the units are stored), every process of that node
  (raylet, workers) is killed with SIGKILL; the run must complete with the local backend's results.
- ``memory``: ``--rows`` rows (Adult rows drawn with replacement) in a Parquet file, benched through
  ``lumos bench --data`` in a child process (method ``random``, metric ``sparseness``: cheap per row, so the
  pipeline itself is measured); the child's peak RSS, against the same rows handed over as an in-memory
  DataFrame split (``--no-in-memory`` leaves that comparison out). The driver's cost per example here is the
  projection's driver bound.
- ``projection``: wall time for 1,000,000 examples of the efficiency spec on N nodes of ``--cores`` cores,
  from the per-example cost and parallel efficiency measured above and the driver's cost per example.

The machine is shared: each row prints the 1-minute load average and the share of the machine's cores busy
(all processes, Ray's workers included) while it ran; compare ratios from one run.

Usage:  python benchmarks/scale.py [efficiency] [nodes] [memory] [--n 64] [--samples 400] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from _contention import busy_seconds  # noqa: E402
from lumos.bench import BenchSpec, Store, run  # noqa: E402

HERE = Path(__file__).resolve().parent
MODEL = "tabular/adult/logreg"


class Watch:
    """Wall time, the 1-minute load average and the share of all cores busy (every process) over a block."""

    def __enter__(self):
        self.t, self.b = time.perf_counter(), busy_seconds()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t
        self.busy = (busy_seconds() - self.b) / (self.wall * (os.cpu_count() or 1))
        self.load = os.getloadavg()[0]


def efficiency_spec(db: Path, n: int, samples: int, seed: int = 0) -> BenchSpec:
    return BenchSpec(model=MODEL, n=n, methods=("kernel_shap",), metrics=("comprehensiveness",), unit_size=4,
                     params={"kernel_shap": {"n_samples": samples}}, seed=seed, db=str(db))


def results(db: Path | str, run_id: str) -> pd.DataFrame:
    """Attributions and scores of a run in one comparable frame (what must not change between backends)."""
    store = Store(db)
    try:
        a = store.frame("attributions", run_id).sort_values(["method", "example_id"])
        s = store.frame("scores", run_id).sort_values(["method", "metric", "example_id"])
    finally:
        store.close()
    return pd.DataFrame({"attributions": [np.asarray(v).tobytes().hex() for v in a.attributions],
                         "probs": a.probs.map(str).tolist()}), s[["example_id", "metric", "value"]]


def same_results(a, b) -> bool:
    return all(x.reset_index(drop=True).equals(y.reset_index(drop=True)) for x, y in zip(a, b))


def cpu_seconds() -> float:
    """CPU seconds of this process and of every live process it started (a local Ray: its GCS, raylet and
    workers), which a busy machine stretches far less than wall time."""
    import psutil

    me, total = psutil.Process(), 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            total += sum(proc.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return total


def timed_run(spec: BenchSpec, **kw) -> tuple[str, Watch, float, float]:
    """Run a spec; returns (run id, whole-run watch, unit-phase seconds, CPU seconds of the whole run)."""
    marks: list[float] = []

    def progress(label, done, total):
        marks.append(time.perf_counter())

    cpu = cpu_seconds()
    with Watch() as w:
        run_id = run(spec, progress=progress, **kw)
    return run_id, w, marks[-1] - marks[0], cpu_seconds() - cpu


def one_efficiency_run(args, tmp: Path, workers: int, tag: str) -> tuple:
    """(watch, unit-phase s, CPU s, results) of the efficiency spec: local runner (workers 0) or Ray."""
    import ray

    db = tmp / f"efficiency-{tag}.sqlite"
    if not workers:
        run_id, w, phase, cpu = timed_run(efficiency_spec(db, args.n, args.samples))
        return w, phase, cpu, results(db, run_id)
    ray.init(address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        run(efficiency_spec(tmp / f"warm-{tag}.sqlite", 4 * workers, args.samples, seed=1), backend="ray")
        run_id, w, phase, cpu = timed_run(efficiency_spec(db, args.n, args.samples), backend="ray")
    finally:
        ray.shutdown()
    return w, phase, cpu, results(db, run_id)


def efficiency(args, tmp: Path) -> dict:
    """Local, Ray 1 worker, Ray 2 workers; with --repeats 2 again in reverse order (drift in the machine's
    load then falls on every backend alike); the table shows the mean of the repeats."""
    names = {0: "local runner", 1: "Ray, 1 worker", 2: "Ray, 2 workers"}
    runs: dict[int, list] = {k: [] for k in names}
    for r in range(args.repeats):
        for workers in (list(names) if r % 2 == 0 else list(names)[::-1]):
            runs[workers].append(one_efficiency_run(args, tmp, workers, f"{workers}-{r}"))
    reference = runs[0][0][3]
    mean = {k: [float(np.mean([x[i].wall if i == 0 else x[i] for x in v])) for i in range(3)] for k, v in runs.items()}
    print(f"\n### Parallel efficiency: KernelSHAP ({args.samples} coalitions) + comprehensiveness, {args.n} Adult "
          f"rows, units of 4, mean of {args.repeats} ({os.cpu_count()} cores)\n")
    print("| backend | whole run (s) | unit phase (s) | unit phase vs local | CPU s (run, Ray's processes too) | "
          "CPU vs local | same results | load avg | cores busy |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k, name in names.items():
        wall, phase, cpu = mean[k]
        same = all(same_results(reference, x[3]) for x in runs[k])
        load = np.mean([x[0].load for x in runs[k]])
        busy = np.mean([x[0].busy for x in runs[k]])
        print(f"| {name} | {wall:.1f} | {phase:.1f} | {mean[0][1] / phase:.2f}x | {cpu:.1f} | {cpu / mean[0][2]:.2f} | "
              f"{'yes' if same else 'NO'} | {load:.1f} | {busy:.0%} |")
    local = runs[0][0]
    out = {"ray1_vs_local": mean[1][1] / mean[0][1], "ray2_speedup": mean[1][1] / mean[2][1]}
    out["per_example"] = mean[0][2] / args.n  # CPU seconds per example, local runner
    print(f"\nRay 1 worker / local (unit phase): {out['ray1_vs_local']:.2f} (target <= 1.10); "
          f"2 workers vs 1: {out['ray2_speedup']:.2f}x (target >= 1.7x); local wall {local[0].wall:.1f} s")
    return out


# Ray turns 127.0.0.1 into the machine's outward address; the rest of 127.0.0.0/8 is loopback too and kept
HEAD_IP, WORKER_IPS = "127.0.0.2", ("127.0.0.3", "127.0.0.4")
# every process of the rehearsal checks the cluster's token (~/.ray/auth_token), as on a real cluster
CLUSTER_ENV = {**os.environ, "RAY_AUTH_MODE": "token", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def start_node(args: list[str], log: Path) -> subprocess.Popen:
    """``ray start --block`` in a process group of its own (so the node can be killed as a whole)."""
    return subprocess.Popen(["ray", "start", "--block", *args], stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True, env=CLUSTER_ENV)


def node_processes(ip: str) -> list:
    """Every process of the node at ``ip``: its raylet and the other daemons started with ``ip`` on their
    command line, and all their descendants (the workers Ray forks run in sessions of their own, so the
    ``ray start`` process group alone does not hold them)."""
    import psutil

    roots = []
    for p in psutil.process_iter(["cmdline"]):
        line = " ".join(p.info["cmdline"] or [])
        if f"node_ip_address={ip}" in line or f"node-ip-address={ip}" in line:
            roots.append(p)
    found = {}
    for p in roots:
        try:
            for q in [p, *p.children(recursive=True)]:
                found[q.pid] = q
        except psutil.Error:
            pass
    return list(found.values())


def running_unit(ip: str) -> bool:
    """Whether a worker of the node at ``ip`` is running a unit now (Ray titles a worker process after the
    task it runs: ``ray::_run``)."""
    import psutil

    for p in node_processes(ip):
        try:
            if "ray::_run" in " ".join(p.cmdline()):
                return True
        except psutil.Error:
            pass
    return False


def kill_node(proc: subprocess.Popen, ip: str | None = None) -> int:
    """SIGKILL the ``ray start`` process group and, given ``ip``, every process of that node; the count killed."""
    import psutil

    victims = node_processes(ip) if ip else []
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for p in victims:
        try:
            p.kill()
        except psutil.Error:
            pass
    proc.wait()
    return len(victims)


def cpu_nodes(address: str) -> int:
    """Live nodes with CPUs in the cluster at ``address`` (asked from a fresh process), -1 when unreachable."""
    code = ("import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False); "
            "print('workers', sum(n['Alive'] and n['Resources'].get('CPU', 0) > 0 for n in ray.nodes()))")
    done = subprocess.run([sys.executable, "-c", code, address], capture_output=True, text=True, env=CLUSTER_ENV)
    counted = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("workers ")]
    return int(counted[0]) if counted else -1


def start_joined(args: list[str], log: Path, address: str, nodes: int, tries: int = 3) -> subprocess.Popen:
    """Start a node and wait until the cluster has ``nodes`` CPU nodes; a node whose start timed out (Ray
    gives a raylet 30 s to register, which a loaded machine can miss) is started again."""
    for _ in range(tries):
        proc = start_node(args, log)
        while proc.poll() is None:
            time.sleep(2)
            if cpu_nodes(address) == nodes:
                return proc
    raise RuntimeError(f"no node joined {address} after {tries} starts:\n{log.read_text()[-2000:]}")


def nodes(args, tmp: Path) -> None:
    port = 26379
    address = f"{HEAD_IP}:{port}"
    db = tmp / "nodes.sqlite"
    spec = efficiency_spec(db, args.n, args.samples)
    local_id = run(efficiency_spec(tmp / "nodes-local.sqlite", args.n, args.samples))
    workers: list[subprocess.Popen] = []
    head = start_joined(["--head", f"--node-ip-address={HEAD_IP}", f"--port={port}", "--num-cpus=0",
                         "--include-dashboard=false", "--disable-usage-stats"], tmp / "head.log", address, 0)
    try:
        for i, ip in enumerate(WORKER_IPS):
            workers.append(start_joined([f"--address={address}", f"--node-ip-address={ip}", "--num-cpus=1",
                                         "--disable-usage-stats"], tmp / f"worker{i}.log", address, i + 1))
        total = -(-args.n // spec.unit_size)
        command = [sys.executable, "-m", "lumos.cli", "bench", "--model", MODEL, "--n", str(args.n),
                   "--methods", "kernel_shap", "--metrics", "comprehensiveness", "--unit-size", "4",
                   "--db", str(db), "--backend", "ray", "--address", address, "--no-report"]
        path = tmp / "params.toml"
        path.write_text(f"[params.kernel_shap]\nn_samples = {args.samples}\n")
        with Watch() as w:
            bench = subprocess.Popen(command + ["--spec", str(path)], stdout=subprocess.DEVNULL,
                                     stderr=open(tmp / "bench.log", "w"), env=CLUSTER_ENV)
            stored, busy = 0, False
            # kill node 2 once a unit is stored and node 2 is running one; the units are spread over both
            # nodes, so this is early in the run (a third of the units at most, else at the first chance)
            while bench.poll() is None:
                time.sleep(0.05)
                busy = running_unit(WORKER_IPS[1])
                if db.exists():
                    with sqlite3.connect(db, timeout=30) as con:
                        try:
                            stored = con.execute("SELECT COUNT(*) FROM units").fetchone()[0]
                        except sqlite3.OperationalError:
                            pass
                if stored >= 1 and (busy or stored >= total // 3):
                    break
            killed_at = stored
            busy_at_kill = busy and bench.poll() is None
            killed = kill_node(workers[1], WORKER_IPS[1])
            bench.wait()
        with sqlite3.connect(db) as con:
            count, distinct = con.execute("SELECT COUNT(*), COUNT(DISTINCT unit) FROM units").fetchone()
        log = (tmp / "bench.log").read_text()
        if bench.returncode:
            print(log[-3000:], file=sys.stderr)
        noticed = [line for line in log.splitlines() if any(w in line.lower() for w in ("died", "retr", "fail"))]
        run_id = spec.run_id()
        same = bench.returncode == 0 and same_results(results(tmp / "nodes-local.sqlite", local_id),
                                                     results(db, run_id))
    finally:
        for proc, ip in zip(workers + [head], [*WORKER_IPS, HEAD_IP]):
            kill_node(proc, ip)
        current = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
        if current.exists() and address in current.read_text():
            current.unlink()
    print("\n### Multi-node rehearsal: head (0 CPUs) + 2 worker nodes (1 CPU each) on loopback, one killed\n")
    print("| units | stored when node 2 was killed | node 2 mid-unit then | its processes killed | units stored | "
          "distinct | exit code | same as local | wall (s) | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {total} | {killed_at} | {'yes' if busy_at_kill else 'no'} | {killed} | {count} | {distinct} | "
          f"{bench.returncode} | {'yes' if same else 'NO'} | {w.wall:.1f} | {w.load:.1f} |")
    print(f"\nWhat Ray told the driver about the lost node ({len(noticed)} lines):")
    for line in noticed[:4]:
        print(f"    {line[:300]}")


def million_rows(rows: int, path: Path) -> None:
    from lumos import zoo

    _, splits = zoo.load(MODEL, progress=False)
    pool = pd.concat([splits["train"], splits["test"]], ignore_index=True)
    picks = np.random.default_rng(0).integers(0, len(pool), rows)
    pool.iloc[picks].reset_index(drop=True).to_parquet(path, row_group_size=100_000)


def in_memory_rows():
    """A loader handing the same rows over as a DataFrame split (the in-memory way), for the memory part."""
    from lumos import zoo

    model, splits = zoo.load(MODEL, progress=False)
    return model, {"test": pd.read_parquet(os.environ["SCALE_ROWS_FILE"]), "train": splits["train"]}


def memory(args, tmp: Path) -> dict:
    path = tmp / "rows.parquet"
    million_rows(args.rows, path)
    common = ["--n", str(args.rows), "--methods", "random", "--metrics", "sparseness", "--unit-size", "1000",
              "--no-report"]
    out, table = {}, []
    sources = [("Parquet file (--data)", MODEL, ["--data", str(path)])]
    if args.in_memory:
        sources.append(("DataFrame split in memory", "scale:in_memory_rows", []))
    for name, model, extra in sources:
        db = tmp / f"memory-{len(table)}.sqlite"
        env = {**os.environ, "SCALE_ROWS_FILE": str(path),
               "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
        code = ("import resource, sys; from lumos.cli import app; "
                "app(sys.argv[1:], standalone_mode=False); "
                "print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        with Watch() as w:
            done = subprocess.run([sys.executable, "-c", code, "bench", "--model", model, *extra, *common,
                                   "--db", str(db)], capture_output=True, text=True, env=env,
                                  preexec_fn=lambda: os.nice(10))  # long and not a ratio: shares the machine
        peak = [line for line in done.stdout.splitlines() if line.startswith("peak")]
        if done.returncode or not peak:
            raise RuntimeError(done.stderr[-3000:])
        with sqlite3.connect(db) as con:
            stored = con.execute("SELECT COUNT(*) FROM examples").fetchone()[0]
        table.append((name, int(peak[0].split()[1]) / 2**20, w, stored))
    out["driver_per_example"] = table[0][2].wall / args.rows
    print(f"\n### Driver memory: {args.rows:,} Adult rows, method random + sparseness, units of 1,000, local "
          "backend (lumos bench in a child process)\n")
    print("| examples from | peak RSS (GB) | examples stored | wall (s) | s per 1,000 examples | load avg |")
    print("|---|---|---|---|---|---|")
    for name, gb, w, stored in table:
        print(f"| {name} | {gb:.2f} | {stored:,} | {w.wall:.0f} | {1000 * w.wall / args.rows:.2f} | {w.load:.1f} |")
    return out


def projection(measured: dict, cores: int) -> None:
    """1,000,000 examples on N nodes: compute = examples x cost / (cores x efficiency), bounded below by the
    driver's own cost per example (reading, encoding, writing the store, one process)."""
    per_example = measured["per_example"]
    efficiency = min(1.0, measured.get("ray2_speedup", 2.0) / 2)
    driver = measured.get("driver_per_example", 0.0)
    print(f"\n### Projection: 1,000,000 examples of the efficiency spec ({per_example:.3f} core-s per example "
          f"measured here; parallel efficiency {efficiency:.2f}; driver {1000 * driver:.2f} s per 1,000 "
          f"examples), nodes of {cores} cores\n")
    print("| nodes | compute bound (h) | driver bound (h) | projected wall (h) |")
    print("|---|---|---|---|")
    for n in (1, 2, 4, 8, 16, 32, 64):
        compute = 1e6 * per_example / (n * cores * efficiency) / 3600
        bound = 1e6 * driver / 3600
        print(f"| {n} | {compute:.2f} | {bound:.2f} | {max(compute, bound):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("parts", nargs="*", default=["efficiency", "nodes", "memory"])
    parser.add_argument("--n", type=int, default=64, help="examples in the efficiency and node specs")
    parser.add_argument("--samples", type=int, default=400, help="KernelSHAP coalitions per example")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the memory part")
    parser.add_argument("--in-memory", action=argparse.BooleanOptionalAction, default=True,
                        help="memory part: also bench the same rows handed over as an in-memory split")
    parser.add_argument("--cores", type=int, default=16, help="cores per node in the projection")
    parser.add_argument("--repeats", type=int, default=2, help="efficiency runs per backend (alternating order)")
    args = parser.parse_args()
    measured: dict = {}
    with tempfile.TemporaryDirectory(prefix="lumos-scale-") as tmp:
        if "efficiency" in args.parts:
            measured.update(efficiency(args, Path(tmp)))
        if "nodes" in args.parts:
            nodes(args, Path(tmp))
        if "memory" in args.parts:
            measured.update(memory(args, Path(tmp)))
    if "per_example" in measured:
        projection(measured, args.cores)


if __name__ == "__main__":
    main()
