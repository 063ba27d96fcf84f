"""Rebuild the checked-in protocols from layouts/ (same as `labkit protocol --all`). Run from the repo root."""

from labkit.protocol.cli import regenerate_all

if __name__ == "__main__":
    for path in regenerate_all("layouts", "protocols"):
        print(f"wrote {path}")
