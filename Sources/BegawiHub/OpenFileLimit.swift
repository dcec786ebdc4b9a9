import Foundation

/// The open-file limit (RLIMIT_NOFILE) as a ceiling on connections: each connection is a file
/// descriptor, and a hub that runs out of them can accept nobody, its own sites included.
enum OpenFileLimit {
    /// Descriptors kept for the database, logs, event loops and connections being turned away.
    static let reserve = 128

    /// Raises the soft limit towards the hard one if `wanted` connections need it, and returns
    /// how many connections the limit allows and the limit itself.
    static func ceiling(for wanted: Int) -> (connections: Int, limit: Int) {
        var limits = rlimit()
        guard getrlimit(resource, &limits) == 0 else { return (wanted, -1) }
        let needed = rlim_t(clamping: wanted + reserve)
        if limits.rlim_cur != rlim_t.max, limits.rlim_cur < needed {
            var raised = limits
            raised.rlim_cur = limits.rlim_max == rlim_t.max ? needed : min(needed, limits.rlim_max)
            if setrlimit(resource, &raised) == 0 { limits = raised }
        }
        guard limits.rlim_cur != rlim_t.max else { return (wanted, Int.max) }
        let limit = Int(clamping: limits.rlim_cur)
        return (min(wanted, max(16, limit - reserve)), limit)
    }

    #if os(Linux)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
