/* Streaming scans for the decimation kernels, vectorised with SSE2 where the compiler targets x86-64
 * (SSE2 is part of its baseline, so no runtime dispatch is needed) and plain C elsewhere.
 *
 * Both are memory-bound: on 10M doubles the SSE2 bin scan runs at about the speed of NumPy's y.max(),
 * where the scalar loop with index tracking ran at a quarter of it.
 */
#ifndef LINEWISE_SIMD_SCAN_H
#define LINEWISE_SIMD_SCAN_H

#include <math.h>
#include <stddef.h>

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#define LW_SSE2 1
#include <emmintrin.h>
#endif

#define LW_CHUNK 64 /* samples per chunk; a multiple of 8. The chunk holding an extreme is read again from L1 */

/* found = {first minimum, first maximum, first NaN} of y[start:end] as indices, -1 where there is none.
 * NaN is skipped as a value (+-inf are values). "First" matters: the NumPy twin keeps the first sample
 * equal to each extreme, and so must this. */
static inline void lw_scan_bin(const double *y, Py_ssize_t start, Py_ssize_t end, Py_ssize_t *found);

static inline Py_ssize_t lw_first_equal(const double *y, Py_ssize_t from, Py_ssize_t end, double v) {
    for (Py_ssize_t i = from; i < end; i++)
        if (y[i] == v)
            return i;
    return -1;
}

static inline Py_ssize_t lw_first_nan(const double *y, Py_ssize_t from, Py_ssize_t end) {
    for (Py_ssize_t i = from; i < end; i++)
        if (y[i] != y[i])
            return i;
    return -1;
}

#ifdef LW_SSE2
/* Pick the better of two (value, chunk) candidates; chunk < 0 means none. Ties go to the earlier chunk. */
static inline void lw_pick(double v, double at, int want_low, double *best, double *best_at) {
    if (at < 0)
        return;
    if (*best_at < 0 || (want_low ? v < *best : v > *best) || (v == *best && at < *best_at)) {
        *best = v;
        *best_at = at;
    }
}

static inline void lw_scan_bin(const double *y, Py_ssize_t start, Py_ssize_t end, Py_ssize_t *found) {
    /* Per lane: the running extreme and the start of the chunk where it was first reached, kept in
     * vectors and merged with masks, so a chunk costs a handful of vector operations and no branch
     * but the NaN test. MINPD(v, lo) is exactly "v < lo ? v : lo": a NaN v leaves lo alone. */
    const __m128d none = _mm_set1_pd(-1.0);
    __m128d g_lo = _mm_set1_pd(INFINITY), g_hi = _mm_set1_pd(-INFINITY), lo_at = none, hi_at = none;
    Py_ssize_t nan_at = -1, c = start;
    for (; c + LW_CHUNK <= end; c += LW_CHUNK) {
        __m128d lo0 = _mm_set1_pd(INFINITY), lo1 = lo0, lo2 = lo0, lo3 = lo0;
        __m128d hi0 = _mm_set1_pd(-INFINITY), hi1 = hi0, hi2 = hi0, hi3 = hi0;
        __m128d un = _mm_setzero_pd();
        for (Py_ssize_t i = c; i < c + LW_CHUNK; i += 8) {  /* four accumulators hide MINPD's latency */
            __m128d v0 = _mm_loadu_pd(y + i), v1 = _mm_loadu_pd(y + i + 2);
            __m128d v2 = _mm_loadu_pd(y + i + 4), v3 = _mm_loadu_pd(y + i + 6);
            lo0 = _mm_min_pd(v0, lo0); lo1 = _mm_min_pd(v1, lo1); lo2 = _mm_min_pd(v2, lo2); lo3 = _mm_min_pd(v3, lo3);
            hi0 = _mm_max_pd(v0, hi0); hi1 = _mm_max_pd(v1, hi1); hi2 = _mm_max_pd(v2, hi2); hi3 = _mm_max_pd(v3, hi3);
            /* unordered(a, b): a or b is NaN, so one compare covers two vectors */
            un = _mm_or_pd(un, _mm_or_pd(_mm_cmpunord_pd(v0, v1), _mm_cmpunord_pd(v2, v3)));
        }
        __m128d c_lo = _mm_min_pd(_mm_min_pd(lo0, lo1), _mm_min_pd(lo2, lo3));
        __m128d c_hi = _mm_max_pd(_mm_max_pd(hi0, hi1), _mm_max_pd(hi2, hi3));
        __m128d here = _mm_set1_pd((double)c);
        /* a lane has a number in this chunk iff its max >= its min (all NaN leaves +inf > -inf) */
        __m128d has_value = _mm_cmple_pd(c_lo, c_hi);
        __m128d better_lo = _mm_or_pd(_mm_cmplt_pd(c_lo, g_lo), _mm_and_pd(has_value, _mm_cmplt_pd(lo_at, _mm_setzero_pd())));
        __m128d better_hi = _mm_or_pd(_mm_cmpgt_pd(c_hi, g_hi), _mm_and_pd(has_value, _mm_cmplt_pd(hi_at, _mm_setzero_pd())));
        g_lo = _mm_min_pd(c_lo, g_lo);
        g_hi = _mm_max_pd(c_hi, g_hi);
        lo_at = _mm_or_pd(_mm_and_pd(better_lo, here), _mm_andnot_pd(better_lo, lo_at));
        hi_at = _mm_or_pd(_mm_and_pd(better_hi, here), _mm_andnot_pd(better_hi, hi_at));
        if (nan_at < 0 && _mm_movemask_pd(un))
            nan_at = c;
    }
    double lo[2], hi[2], la[2], ha[2];
    _mm_storeu_pd(lo, g_lo); _mm_storeu_pd(hi, g_hi); _mm_storeu_pd(la, lo_at); _mm_storeu_pd(ha, hi_at);
    double best_lo = INFINITY, best_lo_at = -1, best_hi = -INFINITY, best_hi_at = -1;
    for (int k = 0; k < 2; k++) {
        lw_pick(lo[k], la[k], 1, &best_lo, &best_lo_at);
        lw_pick(hi[k], ha[k], 0, &best_hi, &best_hi_at);
    }
    if (c < end) {  /* the tail, shorter than a chunk, is a chunk of its own */
        double t_lo = INFINITY, t_hi = -INFINITY;
        int t_nan = 0;
        for (Py_ssize_t i = c; i < end; i++) {
            double v = y[i];
            t_lo = v < t_lo ? v : t_lo;
            t_hi = v > t_hi ? v : t_hi;
            t_nan |= v != v;
        }
        if (t_lo <= t_hi) {
            lw_pick(t_lo, (double)c, 1, &best_lo, &best_lo_at);
            lw_pick(t_hi, (double)c, 0, &best_hi, &best_hi_at);
        }
        if (nan_at < 0 && t_nan)
            nan_at = c;
    }
    found[0] = best_lo_at < 0 ? -1 : lw_first_equal(y, (Py_ssize_t)best_lo_at, end, best_lo);
    found[1] = best_hi_at < 0 ? -1 : lw_first_equal(y, (Py_ssize_t)best_hi_at, end, best_hi);
    found[2] = nan_at < 0 ? -1 : lw_first_nan(y, nan_at, end);
}
#else
static inline void lw_scan_bin(const double *y, Py_ssize_t start, Py_ssize_t end, Py_ssize_t *found) {
    Py_ssize_t imin = -1, imax = -1, inan = -1;
    double lo = INFINITY, hi = -INFINITY;
    for (Py_ssize_t i = start; i < end; i++) {
        double v = y[i];
        if (v != v) {
            if (inan < 0)
                inan = i;
            continue;
        }
        if (imin < 0 || v < lo) { imin = i; lo = v; }
        if (imax < 0 || v > hi) { imax = i; hi = v; }
    }
    found[0] = imin;
    found[1] = imax;
    found[2] = inan;
}
#endif

/* 1 if t[0:n] is non-decreasing (a NaN anywhere makes it 0: NaN >= x is false), else 0. */
static inline int lw_non_decreasing(const double *t, Py_ssize_t n) {
    Py_ssize_t i = 1;
#ifdef LW_SSE2
    const Py_ssize_t chunk = 1024;  /* exit early on a bad chunk without a branch per sample */
    while (i + 4 <= n) {
        Py_ssize_t stop = i + chunk < n ? i + chunk : n;
        __m128d bad = _mm_setzero_pd();
        for (; i + 4 <= stop; i += 4) {
            __m128d a0 = _mm_loadu_pd(t + i), b0 = _mm_loadu_pd(t + i - 1);
            __m128d a1 = _mm_loadu_pd(t + i + 2), b1 = _mm_loadu_pd(t + i + 1);
            /* not(a >= b) covers a < b and NaN */
            bad = _mm_or_pd(bad, _mm_cmpnge_pd(a0, b0));
            bad = _mm_or_pd(bad, _mm_cmpnge_pd(a1, b1));
        }
        if (_mm_movemask_pd(bad))
            return 0;
    }
#endif
    for (; i < n; i++) {
        if (!(t[i] >= t[i - 1]))
            return 0;
    }
    return 1;
}

#endif
