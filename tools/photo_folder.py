"""Make a folder of photos for the README's picture: random crops of a few large photos,
one class per photo (``ROOT/<class>/<n>.jpg``).

    python tools/photo_folder.py OUT cat=chelsea.png coffee=coffee.png ...

The README's folder was made from scikit-image's sample photos (``skimage/data`` in its
wheel: chelsea.png, coffee.png, motorcycle_left.png, rocket.jpg) with 120 crops each.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps


def crops(photo: Image.Image, count: int, rng: np.random.Generator) -> list[Image.Image]:
    """Square crops of 35-80% of the photo's shorter side, anywhere in it, some mirrored,
    saved at 64 to 128 pixels."""
    w, h = photo.size
    out = []
    for _ in range(count):
        side = int(min(w, h) * rng.uniform(0.35, 0.8))
        left, top = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        crop = photo.crop((left, top, left + side, top + side))
        if rng.random() < 0.5:
            crop = ImageOps.mirror(crop)
        size = int(rng.integers(64, 129))
        out.append(crop.resize((size, size), Image.Resampling.LANCZOS))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("photos", nargs="+", metavar="CLASS=PHOTO")
    parser.add_argument("--count", type=int, default=120, help="crops per photo")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for pair in args.photos:
        name, _, path = pair.partition("=")
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as photo:
            for i, crop in enumerate(crops(photo.convert("RGB"), args.count, rng)):
                crop.save(folder / f"{name}{i:04d}.jpg", quality=90)
    print(f"wrote {len(args.photos) * args.count} photos to {args.out}")


if __name__ == "__main__":
    main()
