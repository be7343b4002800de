#ifndef REPTUNE_PREFETCH_H
#define REPTUNE_PREFETCH_H

/// Asks the processor to bring the cache line at `address` into every cache level (`prefetcht0`), so that a
/// kernel streaming weights has the next rows' loads in flight while it computes on this one. Swift cannot emit
/// a prefetch instruction itself; this header is the whole of the C in reptune.
static inline __attribute__((always_inline)) void reptune_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
