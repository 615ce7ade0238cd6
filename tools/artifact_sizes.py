"""Print the size of every artifact `sam build` produced (.aws-sam/build), unzipped and zipped.

Lambda's limits are on these two numbers: 250 MB unzipped for a function plus its layers, 50 MB zipped
for a direct upload. voicetrail's own targets are stricter (docs/deploy/artifacts.md): the layer at most
25 MB unzipped, no function above 10 MB. `--check` fails when a target is exceeded.
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

MB = 1_000_000
LAYER_TARGET_MB = 25.0
FUNCTION_TARGET_MB = 10.0


def unzipped_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def zipped_bytes(root: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, path.relative_to(root))
    return buffer.tell()


def largest_packages(root: Path, count: int = 3) -> list[tuple[str, int]]:
    base = root / "python" if (root / "python").is_dir() else root
    sizes = [(p.name, unzipped_bytes(p)) for p in base.iterdir() if p.is_dir() and "dist-info" not in p.name]
    return sorted(sizes, key=lambda item: -item[1])[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", type=Path, nargs="?", default=Path(".aws-sam/build"))
    parser.add_argument("--check", action="store_true", help="fail when a size target is exceeded")
    args = parser.parse_args()
    artifacts = sorted(p for p in args.build_dir.iterdir() if p.is_dir())
    if not artifacts:
        print(f"no artifacts in {args.build_dir}")
        return 1
    over = []
    print(f"{'artifact':<24} {'unzipped MB':>11} {'zipped MB':>9}  largest packages")
    for artifact in artifacts:
        size = unzipped_bytes(artifact)
        is_layer = (artifact / "python").is_dir()
        target = LAYER_TARGET_MB if is_layer else FUNCTION_TARGET_MB
        top = ", ".join(f"{name} {b / MB:.2f}" for name, b in largest_packages(artifact))
        flag = "  OVER TARGET" if size / MB > target else ""
        print(f"{artifact.name:<24} {size / MB:>11.2f} {zipped_bytes(artifact) / MB:>9.2f}  {top}{flag}")
        if flag:
            over.append(artifact.name)
    print(f"targets: layer <= {LAYER_TARGET_MB:g} MB, each function <= {FUNCTION_TARGET_MB:g} MB (unzipped)")
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())
