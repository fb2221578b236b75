"""Augmentation settings: which random changes each training batch gets, as text a
person can type (``shift=2,flip,rotate=10``) and a run can record."""

from __future__ import annotations

from dataclasses import dataclass, fields

# option -> (largest value, unit shown to people); flip takes no value
LIMITS: dict[str, tuple[float, str]] = {
    "shift": (32, "pixels"), "rotate": (180, "degrees"), "scale": (50, "%"),
    "brightness": (100, "%"), "contrast": (100, "%"),
}


@dataclass(frozen=True)
class Augmentation:
    """Each amount is a ± range drawn afresh for every image of every batch."""

    shift: int = 0  # pixels, horizontally and vertically
    flip: bool = False  # horizontal, with probability 1/2
    rotate: float = 0.0  # degrees
    scale: float = 0.0  # percent of the size
    brightness: float = 0.0  # percent
    contrast: float = 0.0  # percent

    @property
    def active(self) -> bool:
        return self != Augmentation()

    @property
    def text(self) -> str:
        """The canonical form, as :func:`parse_augmentation` reads it ("" for none)."""
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is True:
                parts.append(f.name)
            elif value and value is not False:
                parts.append(f"{f.name}={value:g}")
        return ",".join(parts)


def parse_augmentation(text: str) -> Augmentation:
    """Read ``"shift=2,flip,rotate=10"``; raise ValueError naming the bad option."""
    values: dict[str, object] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, has_value, raw = (s.strip() for s in part.partition("="))
        if name == "flip":
            if has_value:
                raise ValueError("flip takes no value (write just 'flip')")
            values["flip"] = True
            continue
        if name not in LIMITS:
            raise ValueError(f"unknown augmentation {name!r} (choose flip, "
                             f"{', '.join(LIMITS)})")
        top, unit = LIMITS[name]
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{name} needs a number, as in {name}={top // 4:g}") from None
        if not 0 <= value <= top:
            raise ValueError(f"{name} must be between 0 and {top:g} {unit}")
        if name == "shift":
            if value != int(value):
                raise ValueError("shift is a whole number of pixels")
            value = int(value)
        values[name] = value
    return Augmentation(**values)  # type: ignore[arg-type]
