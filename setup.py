"""Build the gilfree extension: C kernels in csrc/ wrapped by Cython.

Environment switches:
  GILFREE_DEBUG=1       -O0 -g, no optimisation (for gdb / sanitizers)
  GILFREE_SANITIZE=...  add -fsanitize=... (e.g. address,undefined)
  GILFREE_CFLAGS=...    extra compiler flags
-march=native is never used: wider SIMD is chosen at run time (csrc/gf_kernels.c).
"""

import os
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("GILFREE_DEBUG", "") not in ("", "0")
sanitize = os.environ.get("GILFREE_SANITIZE", "").strip()

if sys.platform == "win32":
    cflags = ["/Od", "/Zi"] if debug else ["/O2"]
    ldflags = []
else:
    cflags = ["-O0", "-g"] if debug else ["-O3"]
    # No FMA contraction: float results must not depend on the SIMD level.
    cflags += ["-ffp-contract=off", "-fno-strict-aliasing", "-Wall", "-Wno-unused-function"]
    ldflags = []
    if sanitize:
        cflags += [f"-fsanitize={sanitize}", "-fno-omit-frame-pointer"]
        ldflags += [f"-fsanitize={sanitize}"]
cflags += os.environ.get("GILFREE_CFLAGS", "").split()

ext = Extension(
    "gilfree._core",
    sources=["src/gilfree/_core.pyx", "csrc/gf_kernels.c", "csrc/gf_pool.c"],
    include_dirs=["csrc", np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
    extra_compile_args=cflags,
    extra_link_args=ldflags,
    depends=["csrc/gilfree.h", "csrc/gf_kernels_impl.h", "src/gilfree/_gilfree.pxd"],
)

setup(
    ext_modules=cythonize(
        [ext],
        compiler_directives={"language_level": "3"},
        annotate=False,
    ),
)
