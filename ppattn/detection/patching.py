"""The one way ppattn changes PaddleDetection or Paddle: replace a named attribute, keep the
original.

A `Patch` names an attribute (a function or a method) and every module or class that binds it
(ppdet often imports a function by name, so one function can have several owners). Installing
it sets the replacement on every owner and keeps the original in `ORIGINALS` under the patch's
key, for the replacement's own fallbacks and for tests that show the original failing.
Installing twice changes nothing; `remove` gives every owner its original back.
"""
import importlib
from dataclasses import dataclass
from typing import Callable, Dict, Tuple

# Patch.key -> the attribute as ppdet or Paddle defined it
ORIGINALS: Dict[str, Callable] = {}
_MARK = "_ppattn_original"


@dataclass(frozen=True)
class Patch:
    """One change: `owners` (dotted module paths, or 'module:Class') all bind `name`, which
    becomes `replacement(original)`. `reason` says what failed without it."""

    key: str
    owners: Tuple[str, ...]
    name: str
    replacement: Callable[[Callable], Callable]
    reason: str

    def _owner_objects(self) -> list:
        objects = []
        for owner in self.owners:
            module_name, _, class_name = owner.partition(":")
            module = importlib.import_module(module_name)
            objects.append(getattr(module, class_name) if class_name else module)
        return objects

    def install(self) -> None:
        """Set the replacement on every owner, once."""
        owners = self._owner_objects()
        current = getattr(owners[0], self.name)
        original = getattr(current, _MARK, current)
        ORIGINALS[self.key] = original
        if current is not original:
            return
        new = self.replacement(original)
        setattr(new, _MARK, original)
        for owner in owners:
            setattr(owner, self.name, new)

    def remove(self) -> None:
        """Give every owner the original back."""
        for owner in self._owner_objects():
            current = getattr(owner, self.name)
            setattr(owner, self.name, getattr(current, _MARK, current))

    def installed(self) -> bool:
        """Whether every owner has the replacement."""
        return all(hasattr(getattr(owner, self.name), _MARK) for owner in self._owner_objects())


def original(key: str) -> Callable:
    """The original that the patch `key` replaced (the patch must be installed)."""
    if key not in ORIGINALS:
        raise KeyError(f"patch {key!r} is not installed; known: {', '.join(sorted(ORIGINALS))}")
    return ORIGINALS[key]
