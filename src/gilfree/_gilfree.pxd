# The C side of gilfree, declared once.  Everything here is callable without
# the GIL: the C code never touches Python objects.
from libc.stdint cimport int64_t, uint64_t

# The IEEE status bits a float chunk reports in gf_task.fpstatus (NumPy's
# NPY_FPE_* values).
cdef extern from "gf_fpstatus.h" nogil:
    enum:
        GF_FPE_DIVIDEBYZERO
        GF_FPE_OVERFLOW
        GF_FPE_UNDERFLOW
        GF_FPE_INVALID

cdef extern from "gilfree.h" nogil:
    ctypedef enum gf_dtype:
        GF_INT8, GF_INT16, GF_INT32, GF_INT64
        GF_UINT8, GF_UINT16, GF_UINT32, GF_UINT64
        GF_FLOAT32, GF_FLOAT64
        GF_NDTYPES

    ctypedef struct gf_u192:
        uint64_t w[3]

    ctypedef enum gf_op:
        GF_OP_SQUARE, GF_OP_SUMSQ, GF_OP_RANGE_SUMSQ, GF_OP_RANGE_FILL

    ctypedef struct gf_task:
        int op
        int dtype
        int check_overflow
        int stream
        const char *x
        char *out
        int64_t n0, n1
        int64_t xs0, xs1
        int64_t os0, os1
        int64_t n
        int64_t chunk
        int64_t first
        int64_t nchunks
        int64_t start, step
        double *fpartials
        gf_u192 *ipartials
        int overflowed
        int fpstatus

    ctypedef void (*gf_chunk_fn)(gf_task *task, int64_t chunk_index) noexcept nogil

    enum:
        GF_CHUNK_BYTES
        GF_SPREAD_PER_THREAD
        GF_SPREAD_REDUCE
        GF_SPREAD_MIN_BYTES
        GF_PARALLEL_MIN_BYTES
        GF_RANGE_CHUNK
        GF_ROUND_CHUNKS
        GF_GIL_RELEASE_MIN
        GF_SPIN_NS_DEFAULT
        GF_MAX_THREADS
    int64_t GF_SIGNAL_CHECK_NS
    int64_t gf_plan_chunks(gf_task *t, int64_t itemsize, int64_t chunk_bytes, int64_t spread)
    int64_t gf_plan_range(gf_task *t, int64_t chunk)
    int64_t gf_first_overflow(const gf_task *t)
    void gf_round(gf_task *t, int64_t r)

    ctypedef enum gf_simd:
        GF_SIMD_BASELINE, GF_SIMD_AVX2, GF_SIMD_AVX512, GF_SIMD_NLEVELS

    int gf_simd_compiled(int level)
    int gf_stream_compiled()
    int gf_simd_supported(int level)
    int gf_simd_best()
    const char *gf_simd_name(int level)
    gf_chunk_fn gf_chunk_runner(int level)

    double gf_combine_f64(const double *p, int64_t n)
    void gf_combine_f64_into(const double *p, int64_t n, double *sc)
    double gf_ksum_result(const double *sc)
    void gf_combine_u192(const gf_u192 *p, int64_t n, gf_u192 *total)

    ctypedef struct gf_job:
        pass
    ctypedef struct gf_pool:
        pass

    gf_pool *gf_pool_create(int64_t spin_ns)
    void gf_pool_destroy(gf_pool *pool)
    int gf_pool_size(gf_pool *pool)
    int64_t gf_pool_step_asides(gf_pool *pool)
    int gf_pool_reserve(gf_pool *pool, int n)
    void gf_job_init(gf_job *job, gf_task *task, gf_chunk_fn run, int max_helpers)
    void gf_pool_submit(gf_pool *pool, gf_job *job)
    int gf_job_work(gf_pool *pool, gf_job *job, int64_t budget_ns)
    void gf_job_cancel(gf_job *job)
    int64_t gf_now_ns()

    # the timeline sampler (csrc/gf_sampler.c)
    ctypedef struct gf_sampler:
        pass
    enum:
        GF_SAMPLE_THREAD
        GF_SAMPLE_PROCESS
        GF_SAMPLER_BADARG
        GF_SAMPLER_NOMEM
        GF_SAMPLER_NOSUCHID
        GF_SAMPLER_UNSUPPORTED
        GF_SAMPLER_BUSY
        GF_SAMPLER_NOTRUNNING
        GF_SAMPLER_NOTHREAD
        GF_SAMPLE_GONE
    gf_sampler *gf_sampler_create(const int64_t *ids, const int *kinds, int n, int64_t period_ns,
                                  int64_t capacity, int *error)
    int gf_sampler_start(gf_sampler *s)
    int gf_sampler_stop(gf_sampler *s)
    void gf_sampler_destroy(gf_sampler *s)
    int gf_sampler_supported()
    int64_t gf_sampler_count(const gf_sampler *s)
    int gf_sampler_ids(const gf_sampler *s)
    const int64_t *gf_sampler_times(const gf_sampler *s)
    const int64_t *gf_sampler_values(const gf_sampler *s)
    int gf_sampler_source(const gf_sampler *s, int i)
    int64_t gf_sampler_cpu_ns(const gf_sampler *s)
    int64_t gf_sampler_wall_ns(const gf_sampler *s)
