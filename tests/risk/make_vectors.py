#!/usr/bin/python3
"""make_vectors.py: writes the golden vectors the risk unit tests read, from implementations
written here in Python independently of src/risk:
  tests/vectors/risk_rng.txt       splitmix64 / xoshiro256** outputs, jump, uniforms, ziggurat
                                   tables and normals
  tests/vectors/risk_norm_ppf.txt  p and Phi^-1(p) from Python's statistics.NormalDist
Run: /usr/bin/python3 tests/risk/make_vectors.py (from the repository root)."""
import math
import os
from statistics import NormalDist

M = (1 << 64) - 1
root = os.path.join(os.path.dirname(__file__), "..", "vectors")


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


class Xoshiro:
    def __init__(self, seed):
        st = seed
        self.s = []
        for _ in range(4):
            st, v = splitmix64(st)
            self.s.append(v)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def jump(self):
        J = [0x180EC6D33CFD0ABA, 0xD5A61266F0C9392C, 0xA9582618E03FC9AA, 0x39ABDC4529B1661C]
        acc = [0, 0, 0, 0]
        for j in J:
            for b in range(64):
                if j & (1 << b):
                    acc = [a ^ x for a, x in zip(acc, self.s)]
                self.next()
        self.s = acc

    def uniform(self):
        return ((self.next() >> 11) + 0.5) * 2.0**-53

    def normal(self, zig):
        k, w, f = zig
        while True:
            r = self.next()
            idx = r & 0xFF
            r >>= 8
            neg = r & 1
            m = (r >> 1) & 0x000FFFFFFFFFFFFF
            x = m * w[idx]
            if m < k[idx]:
                return -x if neg else x
            if idx == 0:
                while True:
                    xx = -math.log(self.uniform()) / ZIG_R
                    yy = -math.log(self.uniform())
                    if yy + yy > xx * xx:
                        return -(ZIG_R + xx) if neg else ZIG_R + xx
            if f[idx] + self.uniform() * (f[idx - 1] - f[idx]) < math.exp(-0.5 * x * x):
                return -x if neg else x


# 256-layer ziggurat (Marsaglia and Tsang 2000; layer and magnitude from disjoint bits).
ZIG_R = 3.6541528853610088
ZIG_V = 0.00492867323399
ZIG_M = 4503599627370496.0


def zig_tables():
    k, w, f = [0] * 256, [0.0] * 256, [0.0] * 256
    dn = tn = ZIG_R
    q = ZIG_V / math.exp(-0.5 * dn * dn)
    k[0] = int((dn / q) * ZIG_M)
    k[1] = 0
    w[0] = q / ZIG_M
    w[255] = dn / ZIG_M
    f[0] = 1.0
    f[255] = math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(ZIG_V / dn + math.exp(-0.5 * dn * dn)))
        k[i + 1] = int((dn / tn) * ZIG_M)
        tn = dn
        f[i] = math.exp(-0.5 * dn * dn)
        w[i] = dn / ZIG_M
    return k, w, f


with open(os.path.join(root, "risk_rng.txt"), "w") as f:
    f.write("# Golden vectors for src/risk/mc.c, from tests/risk/make_vectors.py.\n")
    f.write("# splitmix64 SEED: the first 5 outputs\n")
    for seed in (0, 1234567, 0xFFFFFFFFFFFFFFFF):
        st, outs = seed, []
        for _ in range(5):
            st, v = splitmix64(st)
            outs.append(v)
        f.write("splitmix64 %d %s\n" % (seed, " ".join(str(v) for v in outs)))
    f.write("# xoshiro SEED: the first 6 outputs after seeding\n")
    for seed in (1, 42):
        x = Xoshiro(seed)
        f.write("xoshiro %d %s\n" % (seed, " ".join(str(x.next()) for _ in range(6))))
    f.write("# jump SEED K: the first 3 outputs after K jumps\n")
    for seed, k in ((1, 1), (1, 3), (99, 2)):
        x = Xoshiro(seed)
        for _ in range(k):
            x.jump()
        f.write("jump %d %d %s\n" % (seed, k, " ".join(str(x.next()) for _ in range(3))))
    f.write("# uniform SEED: the first 4 uniforms (%.17g)\n")
    x = Xoshiro(7)
    f.write("uniform 7 %s\n" % " ".join("%.17g" % x.uniform() for _ in range(4)))
    zig = zig_tables()
    f.write("# zig I: ziggurat table row k[I] w[I] f[I]\n")
    for i in (0, 1, 2, 3, 100, 200, 254, 255):
        f.write("zig %d %d %.17g %.17g\n" % (i, zig[0][i], zig[1][i], zig[2][i]))
    f.write("# normal SEED: the first 8 normals\n")
    for seed in (1, 2):
        x = Xoshiro(seed)
        f.write("normal %d %s\n" % (seed, " ".join("%.17g" % x.normal(zig) for _ in range(8))))
    f.write("# normals SEED COUNT: sum, sum of squares, min, max of the first COUNT normals\n")
    x = Xoshiro(3)
    zs = [x.normal(zig) for _ in range(200000)]
    f.write("normals 3 200000 %.17g %.17g %.17g %.17g\n" % (math.fsum(zs),
            math.fsum(z * z for z in zs), min(zs), max(zs)))

nd = NormalDist()
ps = [1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4,
      0.425, 0.45, 0.5, 0.55, 0.575, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999,
      0.99999, 1 - 1e-10, 1 - 1e-15]
with open(os.path.join(root, "risk_norm_ppf.txt"), "w") as f:
    f.write("# p  Phi^-1(p), from Python's statistics.NormalDist.inv_cdf "
            "(tests/risk/make_vectors.py)\n")
    for p in ps:
        f.write("%.17g %.17g\n" % (p, nd.inv_cdf(p)))
