"""Build the gilfree extension: C kernels in csrc/ wrapped by Cython.

Environment switches:
  GILFREE_DEBUG=1       -O0 -g, no optimisation (for gdb / sanitizers)
  GILFREE_SANITIZE=...  add -fsanitize=... (e.g. address,undefined)
  GILFREE_CFLAGS=...    extra compiler flags
  GILFREE_OPENMP=0      skip the optional OpenMP extension (gilfree._openmp)
-march=native is never used: wider SIMD is chosen at run time (csrc/gf_kernels.c).
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

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



def openmp_flags():
    """(compile, link) flags for OpenMP, or None where the compiler lacks it.

    Apple clang has no OpenMP, so the prange extension is optional; gilfree's
    own pool never needs it.
    """
    if os.environ.get("GILFREE_OPENMP", "1") == "0":
        return None
    if sys.platform == "win32":
        return ["/openmp"], []
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()
    if not shutil.which(cc[0]):
        return None
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "t.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n")
        try:
            r = subprocess.run(cc + ["-fopenmp", src, "-o", os.path.join(d, "t")],
                               capture_output=True, timeout=120)
        except (OSError, subprocess.SubprocessError):
            return None
    return (["-fopenmp"], ["-fopenmp"]) if r.returncode == 0 else None


def c_string(text):
    """A C string literal for a -D macro."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


import Cython  # noqa: E402

# Recorded in the module so `gilfree info` and the bench header can say how
# this build was made.
build_info = [
    ("GF_BUILD_CFLAGS", c_string(" ".join(cflags))),
    ("GF_BUILD_CYTHON", c_string(Cython.__version__)),
    ("GF_BUILD_NUMPY", c_string(np.__version__)),
]

common = dict(
    include_dirs=["csrc", np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")] + build_info,
    depends=["csrc/gilfree.h", "csrc/gf_kernels_impl.h", "csrc/gf_threads.h",
             "csrc/gf_fpstatus.h", "src/gilfree/_gilfree.pxd", "src/gilfree/_shared.pxd"],
)

# The runtime (pool, signals, fork safety, the thread default, config) and
# the NumPy kernels' argument handling are separate modules; _core cimports
# _runtime's run().
extensions = [
    Extension(
        "gilfree._runtime",
        sources=["src/gilfree/_runtime.pyx", "csrc/gf_kernels.c", "csrc/gf_pool.c",
                 "csrc/gf_threads.c"],
        extra_compile_args=cflags,
        extra_link_args=ldflags,
        **common,
    ),
    Extension(
        "gilfree._core",
        sources=["src/gilfree/_core.pyx", "csrc/gf_kernels.c"],
        extra_compile_args=cflags,
        extra_link_args=ldflags,
        **dict(common, depends=common["depends"] + ["src/gilfree/_runtime.pxd"]),
    ),
]

# NumPy-free kernels on buffers, loadable in subinterpreters with their own
# GIL: Cython keeps its module state per interpreter only with this macro.
extensions.append(
    Extension(
        "gilfree._buffer",
        sources=["src/gilfree/_buffer.pyx", "csrc/gf_kernels.c", "csrc/gf_pool.c"],
        extra_compile_args=cflags,
        extra_link_args=ldflags,
        include_dirs=["csrc"],
        define_macros=[("CYTHON_USE_MODULE_STATE", "1")],
        depends=common["depends"] + ["src/gilfree/_shared.pxd"],
    )
)

# The timeline sampler: plain C and a thin binding, no NumPy, no kernels.
extensions.append(
    Extension(
        "gilfree._sampler",
        sources=["src/gilfree/_sampler.pyx", "csrc/gf_sampler.c"],
        extra_compile_args=cflags,
        extra_link_args=ldflags,
        include_dirs=["csrc"],
        depends=["csrc/gilfree.h", "src/gilfree/_gilfree.pxd"],
    )
)
# The parallel-for C-API (src/gilfree/include/gilfree/parallel.h, for other
# extensions) is compiled into gilfree._runtime from csrc/gf_parallel.h.
for _ext in extensions:
    if _ext.name == "gilfree._runtime":
        _ext.depends = list(_ext.depends) + ["csrc/gf_parallel.h",
                                             "src/gilfree/include/gilfree/parallel.h"]

omp = openmp_flags()
if omp is not None:
    extensions.append(
        Extension(
            "gilfree._openmp",
            sources=["src/gilfree/_openmp.pyx", "csrc/gf_kernels.c"],
            extra_compile_args=cflags + omp[0],
            extra_link_args=ldflags + omp[1],
            **common,
        )
    )
else:
    print("gilfree: no OpenMP in this compiler; building without gilfree._openmp")

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3"},
        annotate=False,
    ),
)
