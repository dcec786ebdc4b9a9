import Foundation

/// Gives back what an idle daemon holds but does not use: code pages and freed heap.
///
/// Most of an idle site daemon's resident size is code: the one `begawi` binary holds the hub,
/// the office and the demo too, and the kernel maps code in 64 KB runs around each page first
/// touched (fault-around), so starting and the first rounds leave ~25 MB of it mapped. Those pages
/// are clean copies of the files: dropping them from this process (`MADV_DONTNEED` on the
/// read-and-execute mappings of files, never on writable or anonymous ones) leaves them in the page
/// cache, and the code the idle loop runs comes back at once, from memory. The other private
/// mappings of files (the binary's data and read-only data, the libraries') hold clean file pages
/// too, read once at start (Swift's type metadata, conformance tables), beside pages the process
/// wrote (relocations, globals), which must stay: those mappings are handed to the kernel's reclaim
/// (`MADV_PAGEOUT`, Linux 5.4), which drops the clean pages and never loses a written one (without
/// swap it keeps them). On an idle site daemon that is about 6 MB of the binary's data. `malloc_trim`
/// returns freed heap to the system.
final class ResidentMemory: @unchecked Sendable {
    // @unchecked: `last` is read and written under `lock` only.
    static let shared = ResidentMemory()
    private let lock = NSLock()
    private var last: ContinuousClock.Instant?
    /// At most this often: a busy site enters and leaves held pulls all day.
    private let interval: Duration = .seconds(600)

    /// Trims, unless it was done within `interval`.
    func trimIfDue() {
        let now = ContinuousClock.now
        let due = lock.withLock { () -> Bool in
            if let last, now - last < interval { return false }
            last = now
            return true
        }
        if due { ResidentMemory.trim() }
    }

    /// Drops this process's mappings of clean code pages, hands its other private file mappings to the
    /// kernel's reclaim, and returns freed heap; the bytes of code unmapped.
    @discardableResult
    static func trim() -> Int {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        guard let maps = readProcFile("/proc/self/maps") else { return 0 }
        var dropped = 0
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // Only private mappings of a file; never a shared one (SQLite's -shm) nor an anonymous one.
            guard fields.count >= 6, fields[1].hasSuffix("p"), fields[5].hasPrefix("/") else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16), end > start,
                  let address = UnsafeMutableRawPointer(bitPattern: start) else { continue }
            if fields[1] == "r-xp" {
                // Code, never written (no text relocations): dropped from this process, kept in the page cache.
                if madvise(address, Int(end - start), MADV_DONTNEED) == 0 { dropped += Int(end - start) }
            } else {
                // Data: the kernel reclaims only the clean pages no other process maps. Refused by a kernel
                // before 5.4 (EINVAL), which costs nothing.
                _ = madvise(address, Int(end - start), Self.pageOut)
            }
        }
        return dropped
        #else
        return 0
        #endif
    }

    /// `MADV_PAGEOUT` (linux/mman.h), spelled out: older C headers lack the name.
    static let pageOut: Int32 = 21

    /// A file of /proc, read to its end: its size says 0, so readers that trust the size read nothing.
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return n == 0 ? String(decoding: bytes, as: UTF8.self) : nil }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }
}

#if os(Linux)
/// glibc's `malloc_trim(3)`; <malloc.h> is not part of the Glibc module.
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
