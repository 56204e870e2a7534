"""Build the gilfree extension: C kernels in csrc/ wrapped by Cython.

Environment switches:
  GILFREE_DEBUG=1       -O0 -g, no optimisation (for gdb / sanitizers)
  GILFREE_SANITIZE=...  add -fsanitize=... (e.g. address,undefined)
  GILFREE_CFLAGS=...    extra compiler flags
  GILFREE_OPENMP=0      skip the optional OpenMP extension (gilfree._openmp)
  GILFREE_BUILD_JOBS=N  compile with N parallel jobs (default: the CPU count)

The C kernels are compiled once per package, not once per extension: each
SIMD level is a translation unit of its own (csrc/gf_level_*.c) compiled with
that level's flags, and the objects are linked into every extension.
-march=native is never used: wider SIMD is chosen at run time from cpuid
(csrc/gf_kernels.c).
"""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

debug = os.environ.get("GILFREE_DEBUG", "") not in ("", "0")
sanitize = os.environ.get("GILFREE_SANITIZE", "").strip()

if sys.platform == "win32":
    cflags = ["/Od", "/Zi"] if debug else ["/O2"]
    # /fp:precise never contracts a * b + c into an FMA (MSVC 2022): float
    # results must not depend on the SIMD level.
    cflags += ["/fp:precise"]
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

def target_is_x86_64():
    """Whether the extensions are built for x86-64 (where the AVX2 and
    AVX-512 levels exist).  sysconfig.get_platform() follows cibuildwheel's
    cross-builds (_PYTHON_HOST_PLATFORM); on macOS ARCHFLAGS names the
    architectures, and a universal2 build keeps to the baseline."""
    if sys.platform == "darwin" and os.environ.get("ARCHFLAGS"):
        return re.findall(r"-arch\s+(\S+)", os.environ["ARCHFLAGS"]) == ["x86_64"]
    return sysconfig.get_platform().lower().endswith(("x86_64", "amd64"))


# The kernels: one translation unit per SIMD level, each with its own flags
# (no other code is compiled for the wider instruction sets), plus the
# dispatch.  On other targets the AVX2 and AVX-512 files get no flags and
# compile to nothing but a "not compiled" answer (gf_level_runner_*).
if sys.platform == "win32":
    level_flags = {"avx2": ["/arch:AVX2"], "avx512": ["/arch:AVX512"]}
else:
    level_flags = {"avx2": ["-mavx2", "-mfma"],
                   "avx512": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl",
                              "-mavx2", "-mfma"]}
if not target_is_x86_64():
    level_flags = {}
KERNEL_SOURCES = [
    ("csrc/gf_kernels.c", []),
    ("csrc/gf_level_baseline.c", []),
    ("csrc/gf_level_avx2.c", level_flags.get("avx2", [])),
    ("csrc/gf_level_avx512.c", level_flags.get("avx512", [])),
]
KERNEL_DEPENDS = ["csrc/gilfree.h", "csrc/gf_kernels_common.h", "csrc/gf_kernels_impl.h",
                  "csrc/gf_fpstatus.h"]


#: Extensions that run no kernel (the timeline sampler): nothing to link.
NO_KERNELS = {"gilfree._sampler"}


def build_jobs():
    jobs = os.environ.get("GILFREE_BUILD_JOBS", "")
    return max(1, int(jobs)) if jobs.isdigit() else (os.cpu_count() or 1)


class BuildExt(build_ext):
    """Compile the kernels once, link their objects into every extension,
    and build the extensions in parallel."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = build_jobs()

    def build_extensions(self):
        from concurrent.futures import ThreadPoolExecutor

        out = os.path.join(self.build_temp, "gilfree-kernels")
        # MSVC finds its tools on first use: once, before the threads.
        if getattr(self.compiler, "initialized", True) is False:
            self.compiler.initialize()

        def compile_one(item):
            src, flags = item
            return self.compiler.compile(
                [src], output_dir=out, include_dirs=["csrc"], debug=self.debug,
                extra_postargs=cflags + flags, depends=KERNEL_DEPENDS)

        with ThreadPoolExecutor(max_workers=min(build_jobs(), len(KERNEL_SOURCES))) as pool:
            objects = [o for objs in pool.map(compile_one, KERNEL_SOURCES) for o in objs]
        for ext in self.extensions:
            if ext.name in NO_KERNELS:
                continue
            ext.extra_objects = objects + list(ext.extra_objects or [])
            # a changed kernel relinks every extension
            ext.depends = list(ext.depends) + [src for src, _ in KERNEL_SOURCES] + KERNEL_DEPENDS
        super().build_extensions()


common = dict(
    include_dirs=["csrc", np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")] + build_info,
    depends=["csrc/gilfree.h", "csrc/gf_threads.h",
             "csrc/gf_fpstatus.h", "src/gilfree/_gilfree.pxd", "src/gilfree/_shared.pxd"],
)

# The runtime (pool, signals, fork safety, the thread default, config) and
# the NumPy kernels' argument handling are separate modules; _core cimports
# _runtime's run().
extensions = [
    Extension(
        "gilfree._runtime",
        sources=["src/gilfree/_runtime.pyx", "csrc/gf_pool.c", "csrc/gf_threads.c"],
        extra_compile_args=cflags,
        extra_link_args=ldflags,
        **common,
    ),
    Extension(
        "gilfree._core",
        sources=["src/gilfree/_core.pyx"],
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
        sources=["src/gilfree/_buffer.pyx", "csrc/gf_pool.c"],
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

# The bench's gilfree-parallel-for row: the kernels of gilfree._openmp written
# on gilfree's pool through the public parallel-for C-API (parallel.pxd and
# the header in src/gilfree/include), as another extension would.  No OpenMP.
extensions.append(
    Extension(
        "gilfree._pfor",
        sources=["src/gilfree/_pfor.pyx"],
        extra_compile_args=cflags,
        extra_link_args=ldflags,
        **dict(common, include_dirs=common["include_dirs"] + ["src/gilfree/include"],
               depends=common["depends"] + ["src/gilfree/parallel.pxd",
                                            "src/gilfree/include/gilfree/parallel.h",
                                            "src/gilfree/_runtime.pxd"]),
    )
)

omp = openmp_flags()
if omp is not None:
    extensions.append(
        Extension(
            "gilfree._openmp",
            sources=["src/gilfree/_openmp.pyx"],
            extra_compile_args=cflags + omp[0],
            extra_link_args=ldflags + omp[1],
            **common,
        )
    )
else:
    print("gilfree: no OpenMP in this compiler; building without gilfree._openmp")

setup(
    cmdclass={"build_ext": BuildExt},
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3"},
        annotate=False,
    ),
)
