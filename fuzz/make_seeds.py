"""Write the generated part of the seed corpus in fuzz/corpus/ (deterministic).

libFuzzer grows inputs from small ones and keeps only inputs that reach new
code, so on its own it rarely tries long arrays of narrow integers or values
next to an overflow threshold: they cover no new branch, but they are where
the kernels' lane flushes and overflow checks can go wrong.  These seeds
start every array target from each dtype x value mode x layout, at sizes
around the kernels' block edges (256-element blocks, 8-wide vectors), and
the range target from ranges that cross zero and reach the ends of int64.

The byte layouts mirror the readers in fuzz/*.c (fz_u8 = 1 byte, fz_range /
fz_u64 = 8 bytes little-endian); keep them in step.  Hand-written seeds (the
files without a "gen-" prefix) are kept as they are.

Usage: python3 fuzz/make_seeds.py
"""

import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def u8(v):
    return bytes([v & 255])


def u64(v):
    return struct.pack("<Q", v % 2**64)


def view(rng, how):
    """A gf_fuzz_view.h fz_view_shape record for layout `how`."""
    b = u8(how)
    if how == 1:
        b += u64(rng.randrange(8)) + u8(rng.randrange(2))
    elif how == 2:
        b += u64(rng.randrange(5)) + u64(rng.randrange(4)) + u8(rng.randrange(2)) + u8(rng.randrange(2))
    elif how == 3:
        b += u64(rng.randrange(13)) + u64(rng.randrange(201))
    return b


def fill(rng, dtype, mode):
    param = {0: 0, 1: rng.choice([7, 16, 31, 32, 33, 63]), 2: 0, 3: 0, 4: 0}[mode]
    if dtype >= 8 and mode in (2, 3):
        param = rng.choice([1, 10, 60, 127] if dtype == 8 else [1, 25, 125, 250, 255])  # float64: x4
    return u8(mode) + u8(param) + u64(rng.getrandbits(64))


SIZES = [1, 3, 8, 31, 255, 256, 257, 511, 1000, 2048, 4100, 8192]


def array_seeds(rng, square):
    out = {}
    for dtype in range(10):
        for mode in range(5):
            n1 = rng.choice(SIZES)
            n0 = rng.choice([1, 1, 2, 7])
            how = rng.randrange(4)
            chunk = rng.choice([n1 * n0, 1, 256, 1000, 4096])
            b = u8(dtype) + u64(n1 - 1) + u64(n0 - 1)
            if square:
                flags = rng.randrange(8) | 2  # overflow checking on
                b += u8(flags) + u64(chunk - 1) + u8(rng.randrange(2)) + view(rng, rng.randrange(3))
                if not flags & 1:
                    b += view(rng, how)
            else:
                b += u64(chunk - 1) + u8(rng.randrange(2)) + view(rng, how)
            b += fill(rng, dtype, mode)
            out[f"gen-{'sq' if square else 'ssq'}-d{dtype}-m{mode}"] = b
        # near-threshold values in short arrays: whether one square overflows
        # then depends on single elements
        for n1 in (5, 40):
            b = u8(dtype) + u64(n1 - 1) + u64(0)
            if square:
                b += u8(2 | rng.randrange(2)) + u64(n1 - 1) + u8(1) + view(rng, 0) + view(rng, 0)
            else:
                b += u64(n1 - 1) + u8(1) + view(rng, 0)
            out[f"gen-{'sq' if square else 'ssq'}-d{dtype}-m4-n{n1}"] = b + fill(rng, dtype, 4)
    return out


def shaped(how, raw):
    return u8(how) + u64(raw)


def range_seeds(rng):
    out = {}
    starts = [(1, 0), (2, 0), (3, 0), (5, 0), (0, -(2**62)), (0, 2**61)]
    steps = [(4, 2 * 46), (4, 2 * 61), (0, 3 * 2**61), (3, 100001), (5, 0), (0, -(3 * 2**61)), (4, 2 * 31 + 1)]
    for i, (sh, sr) in enumerate(starts):
        for j, (th, tr) in enumerate(steps):
            op = (i + j) & 1
            b = u8(op) + shaped(sh, sr) + shaped(th, tr)
            if op == 0:
                # chunk (length class, value), n, round choice, two chunk choices
                b += u8(rng.randrange(4)) + u64(rng.choice([131071, 15, 4095]))
                b += u64(rng.getrandbits(64)) + u8(rng.randrange(3))
                b += u64(rng.getrandbits(64)) + u64(rng.getrandbits(64)) + u64(rng.getrandbits(64))
            else:
                b += u8(rng.randrange(10)) + u64(rng.choice([65535, 4096, 3, 300])) + u8(rng.randrange(3))
                b += u64(rng.getrandbits(20)) + u64(rng.randrange(64))
            out[f"gen-range-{i}-{j}"] = b
    return out


def main():
    rng = random.Random(20261201)
    sets = {
        "fuzz_square": array_seeds(rng, True),
        "fuzz_sumsq": array_seeds(rng, False),
        "fuzz_range": range_seeds(rng),
    }
    for target, seeds in sets.items():
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            if name.startswith("gen-"):
                os.remove(os.path.join(d, name))
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print(f"{target}: {len(seeds)} generated seeds in {d}")


if __name__ == "__main__":
    main()
