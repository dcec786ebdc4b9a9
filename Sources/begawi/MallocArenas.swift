import Foundation

/// Caps glibc's malloc arenas for the daemons and for `begawi site sync` (a first sync's adoption).
///
/// glibc gives each thread that allocates concurrently its own arena (up to eight per core), and
/// memory freed in an arena stays with it. The hub applies pushes on several threads, each with
/// large short-lived allocations, so its resident size grew with the work done (BENCHMARKS.md,
/// "Rules between agencies"). `MALLOC_ARENA_MAX` in the environment still wins.
enum MallocArenas {
    static func limit(_ count: Int32 = 2) {
        #if os(Linux)
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = glibcMallopt(mArenaMax, count)
        #endif
    }

    /// `M_ARENA_MAX` of glibc's <malloc.h>, which the Glibc module does not export.
    static let mArenaMax: Int32 = -8
}

#if os(Linux)
/// glibc's `mallopt(3)`; <malloc.h> is not part of the Glibc module.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
