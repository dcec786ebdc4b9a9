import Foundation

/// A fresh temporary folder, removed when the test process exits.
///
/// Not when the value is released: Swift may release a local right after its last use, which in a
/// test is often `folder.file(...)` just before the file is created, and the folder would vanish
/// under the replica (seen as "disk I/O error" in CI).
public final class TemporaryFolder: @unchecked Sendable {
    /// The folder's absolute path.
    public let path: String

    /// Creates `/dev/shm/<label>-<random>` (or the same under the temporary directory).
    public init(_ label: String = "begawi") {
        // tmpfs when there is one: real files, without paying for fsync thousands of times.
        let root = FileManager.default.fileExists(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        let base = root.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try! FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
        TemporaryFolder.register(path)
    }

    /// The path of `name` inside the folder.
    public func file(_ name: String) -> String { path + "/" + name }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: [String] = []
    nonisolated(unsafe) private static var hooked = false

    private static func register(_ path: String) {
        lock.withLock {
            paths.append(path)
            if !hooked {
                hooked = true
                atexit { TemporaryFolder.removeAll() }
            }
        }
    }

    private static func removeAll() {
        guard ProcessInfo.processInfo.environment["BEGAWI_KEEP_TEST_FILES"] == nil else { return }
        let all = lock.withLock { paths }
        for p in all { try? FileManager.default.removeItem(atPath: p) }
    }
}
