"""One registry type for every kind of plug-in: explainers, metrics, attacks, influence methods, counterfactual
methods, label models, repairs, artifact discoverers, report sections and zoo entries.

A plug-in registers itself where it is defined (``@EXPLAINERS.register("name")``). The built-in plug-ins of a
kind live in the packages named by its registry (``builtins``); they are imported by name on the first lookup,
so this ground-floor module imports nothing above it, and a package of its own can add plug-ins through the
``lumos.plugins`` entry-point group (each entry point names a module to import).

Every registry answers the same questions the same way: ``get(name)`` (an unknown name raises an InputError
that suggests the closest), ``names()``, ``describe()`` (name -> metadata, one shape for every kind: summary,
modalities, params, requires, plus the kind's own keys) and ``select(modality, model)`` (the names that apply).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import pkgutil
from typing import Any, Callable, Generic, Iterator, Mapping, TypeVar

from .errors import InputError

T = TypeVar("T")

ENTRY_POINT_GROUP = "lumos.plugins"
_entry_points_loaded = False


def did_you_mean(name: Any, known: Mapping[str, Any] | list[str], what: str, head: str | None = None) -> InputError:
    """The error for an unknown ``name`` among ``known`` (a kind of thing, e.g. "metric"), with the closest;
    ``head`` replaces the opening "unknown <what> <name>"."""
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return InputError(f"{head or f'unknown {what} {name!r}'}.{hint} Known: {', '.join(sorted(known)) or 'none'}.")


def check_params(owner: str, given: Mapping[str, Any], known: list[str]) -> None:
    """An InputError naming the first of ``given`` that is not in ``known`` (with the closest known name)."""
    for key in given:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InputError(f"{owner} has no parameter {key!r}.{hint} Its parameters: "
                             f"{', '.join(known) or 'none'}.")


class Registry(Generic[T]):
    """Name -> plug-in for one ``kind``.

    ``builtins``: packages whose modules define the built-in plug-ins (every module of each is imported on
    the first lookup). ``describe_one``: plug-in -> its metadata (default: the plug-in's ``info()``).
    """

    def __init__(self, kind: str, builtins: tuple[str, ...] = (), noun: str | None = None,
                 describe_one: Callable[[T], dict[str, Any]] | None = None, unknown: str | None = None):
        self.kind = kind
        self.noun = noun or kind.replace("_", " ")
        self._unknown = unknown  # the opening of the unknown-name error, "{name!r}" filled in
        self.builtins = builtins
        self._describe_one = describe_one
        self._entries: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str, obj: T | None = None) -> Any:
        """``@registry.register("name")`` on a class or function, or ``registry.register("name", obj)``.
        A class gets ``name`` as its ``name`` attribute."""

        def add(item: T) -> T:
            existing = self._entries.get(name)
            if existing is not None and existing is not item and _qualname(existing) != _qualname(item):
                raise RuntimeError(f"two {self.noun}s registered as {name!r}: {existing} and {item}")
            if isinstance(item, type):
                item.name = name  # type: ignore[attr-defined]
            self._entries[name] = item
            return item

        return add(obj) if obj is not None else add

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests and user code that registered something temporary)."""
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """The plug-in registered as ``name``."""
        self.load()
        if not isinstance(name, str) or name not in self._entries:
            head = self._unknown.format(name=name) if self._unknown else None
            raise did_you_mean(name, self._entries, self.noun, head)
        return self._entries[name]

    def names(self) -> list[str]:
        self.load()
        return sorted(self._entries)

    def in_order(self) -> list[str]:
        """The names in the order they were registered (``names()`` sorts them)."""
        self.load()
        return list(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return [(n, self._entries[n]) for n in self.names()]

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def describe(self) -> dict[str, dict[str, Any]]:
        """Name -> metadata, the same keys for every kind: kind, summary, modalities, params, requires, plus
        the kind's own (e.g. a metric's family and higher_is_better)."""
        return {name: self.info(name) for name in self.names()}

    def info(self, name: str) -> dict[str, Any]:
        item = self.get(name)
        own = self._describe_one(item) if self._describe_one else getattr(item, "info", lambda: _default_info(item))()
        return {"kind": self.kind, "summary": "", "modalities": (), "params": {}, "requires": (), **own}

    def select(self, modality: str | None = None, model: Any = None) -> list[str]:
        """The names whose plug-in applies to ``modality`` inputs and to ``model`` (its capabilities)."""
        out = []
        for name, item in self.items():
            applies = getattr(item, "applies_to", None)
            if applies is not None and model is not None and modality is not None:
                if applies(model, modality):
                    out.append(name)
            elif modality is None or modality in self.info(name)["modalities"]:
                out.append(name)
        return out

    def load(self) -> None:
        """Import the built-in packages (once) and any ``lumos.plugins`` entry points."""
        if self._loaded:
            return
        self._loaded = True
        for package in self.builtins:
            _import_all(package)
        _load_entry_points()


def _default_info(item: Any) -> dict[str, Any]:
    """Metadata of a plug-in without ``info()``: the first line of its docstring, its dataclass fields."""
    doc = (getattr(item, "__doc__", None) or "").strip().splitlines()
    params = {f.name: f.default for f in dataclasses.fields(item)} if dataclasses.is_dataclass(item) else {}
    return {"summary": getattr(item, "summary", "") or (doc[0] if doc else ""), "params": params,
            "modalities": tuple(getattr(item, "modalities", ())), "requires": tuple(getattr(item, "requires", ()))}


def _qualname(item: Any) -> str:
    return f"{getattr(item, '__module__', '')}.{getattr(item, '__qualname__', repr(item))}"


def _import_all(package: str) -> None:
    """Import ``package`` and every module in it (not sub-packages' private modules)."""
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(getattr(module, "__path__", []), prefix=package + "."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            importlib.import_module(info.name)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        ep.load()



EXPLAINERS: Registry = Registry("explainer", ("lumos.explainers",))
METRICS: Registry = Registry("metric", ("lumos.metrics", "lumos.nle.metrics"))
ATTACKS: Registry = Registry("attack", ("lumos.robustness.attacks",))
INFLUENCE: Registry = Registry("influence", ("lumos.influence.estimators",), "influence method")
COUNTERFACTUALS: Registry = Registry("counterfactual", ("lumos.counterfactuals.searches",), "counterfactual method")
LABEL_MODELS: Registry = Registry("label_model", ("lumos.weak.label_models",), "label model")
SECTIONS: Registry = Registry("section", ("lumos.bench.sections",), "report section")
REPAIRS: Registry = Registry("repair", ("lumos.curate.repairs",), "repair")
DISCOVERERS: Registry = Registry("discoverer", ("lumos.artifacts.discoverers",), "artifact discoverer")
ZOO: Registry = Registry("zoo", ("lumos.zoo.entries",), "zoo model", unknown="no zoo model named {name!r}")

KINDS: dict[str, Registry] = {r.kind: r for r in (EXPLAINERS, METRICS, ATTACKS, INFLUENCE, COUNTERFACTUALS,
                                                  LABEL_MODELS, SECTIONS, REPAIRS, DISCOVERERS, ZOO)}


def of(kind: str) -> Registry:
    """The registry of ``kind``: one of ``KINDS`` ("explainer", "metric", "attack", "influence", ...)."""
    if kind not in KINDS:
        raise did_you_mean(kind, KINDS, "kind of plug-in")
    return KINDS[kind]


def register(name: str, kind: str = "explainer") -> Callable[[T], T]:
    """Decorator: register a plug-in of ``kind`` as ``name`` (``@register("my_method")``,
    ``@register("my_metric", kind="metric")``)."""
    return of(kind).register(name)


def get(name: str, kind: str = "explainer") -> Any:
    """The plug-in of ``kind`` registered as ``name``; an unknown name suggests the closest."""
    return of(kind).get(name)


def names(kind: str = "explainer") -> list[str]:
    return of(kind).names()


def describe(kind: str = "explainer") -> dict[str, dict[str, Any]]:
    """Name -> metadata of every plug-in of ``kind`` (the same keys for every kind)."""
    return of(kind).describe()
