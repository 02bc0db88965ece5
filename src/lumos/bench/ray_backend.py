"""The Ray backend of ``lumos bench``: each unit of work (a slice of examples x one method, with its metrics)
runs as a Ray task, so Ray schedules, places and retries the work; nothing here is a scheduler.

- Each worker process loads the model once, by its name (zoo name or ``package.module:function``), on its first
  unit, and keeps it: models never travel through the object store.
- What every unit shares (the spec, the metrics, the tables' background rows) is put in the object store once;
  each slice of examples is put once and read by all of its methods' units.
- A task whose worker process (or node) dies is run again by Ray (``MAX_RETRIES``); the driver keeps a bounded
  number of tasks in flight and hands each result back as it finishes. The caller (``runner.run``) alone writes
  the store, one transaction per unit, so a retried unit is still stored once.

Ray is an optional extra (``pip install lumos[ray]``); the local runner never imports this module.
"""

from __future__ import annotations

import os
import socket
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..errors import InputError, LumosError
from ..models import Model
from .data import from_frame, load_model

if TYPE_CHECKING:
    from .runner import Slice, Unit
    from .spec import BenchSpec

MAX_RETRIES = 3  # runs of a unit after the first when its worker process or node dies
IN_FLIGHT_PER_CPU = 2  # tasks handed to Ray per CPU of the cluster: workers never wait, memory stays bounded
SHARED_SLICES = 4  # slices whose leave-one-out work a worker keeps for the other methods of the slice

_model: dict[str, Model] = {}  # this worker's model, by name
_shared: OrderedDict[tuple[str, int], dict] = OrderedDict()


def execute(spec: BenchSpec, work: Iterator[Slice], metrics: list[str], background: Any, run_unit: Callable,
            address: str | None = None) -> Iterator[tuple[Unit, tuple]]:
    """Run every unit of ``work`` as a Ray task of ``run_unit(spec, data, unit, metrics, cache)``; yields
    (unit, result) as units finish. Joins the cluster at ``address`` (else $RAY_ADDRESS, else starts a local
    Ray, shut down at the end) unless Ray is already initialised in this process."""
    ray = _ray()
    owned = _connect(ray, address)
    pending: dict[Any, Unit] = {}
    try:
        shared = ray.put((spec, metrics, background, run_unit))
        task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_run)
        window = IN_FLIGHT_PER_CPU * max(1, int(ray.cluster_resources().get("CPU", 1)))
        for piece in work:
            frame = ray.put(piece.frame)
            for unit in piece.units:
                while len(pending) >= window:
                    yield _finished(ray, pending)
                pending[task.remote(shared, unit, frame)] = unit
        while pending:
            yield _finished(ray, pending)
    finally:
        for ref in pending:  # left only when the run stops early: an error, or the caller gave up
            ray.cancel(ref)
        if owned:
            ray.shutdown()


def _run(shared: tuple, unit: Unit, frame: Any) -> tuple:
    """One unit, on a worker: the model loaded on the worker's first unit, the examples from the driver."""
    spec, metrics, background, run_unit = shared
    if spec.model not in _model:
        _model.clear()
        _model[spec.model] = load_model(spec.model)
    key = (spec.run_id(), unit.first)
    cache = _shared.setdefault(key, {})
    _shared.move_to_end(key)
    while len(_shared) > SHARED_SLICES:
        _shared.popitem(last=False)
    return run_unit(spec, from_frame(_model[spec.model], frame, background), unit, metrics, cache)


def _finished(ray: Any, pending: dict[Any, Unit]) -> tuple[Unit, tuple]:
    """The next unit to finish and its result; lumos errors raised on a worker are raised here as they were."""
    (ref,), _ = ray.wait(list(pending), num_returns=1)
    unit = pending.pop(ref)
    try:
        return unit, ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        if isinstance(e.cause, LumosError):
            raise e.cause from None
        raise
    except ray.exceptions.RayError as e:
        raise LumosError(f"Ray could not run {unit.method} on examples {unit.first}..{unit.stop - 1} "
                         f"(tried {MAX_RETRIES + 1} times): {e}. The units finished so far are stored; run "
                         "the same command again to resume.") from None


def _connect(ray: Any, address: str | None) -> bool:
    """Join or start Ray; True when this call started it (and so shuts it down)."""
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        _check_reachable(address)
        ray.init(address=address)
    else:  # "local": a new Ray on this machine, never a cluster someone else left running
        ray.init(address="local", include_dashboard=False)
    return True


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """An InputError, within ``timeout`` seconds, when nothing listens at a "host:port" (or "ray://host:port")
    address: ray.init would retry for many minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise InputError(f"no Ray cluster answers at {address} ({e}); start one with `ray start --head` and pass "
                         "its address, or leave --address out for a local Ray.") from None


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError("--backend ray needs Ray, which is not installed; install it with "
                         "`pip install 'lumos[ray]'` (or use the default local backend).") from None
    return ray
