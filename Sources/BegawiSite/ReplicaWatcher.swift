#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation

/// Wakes an idle site daemon when another program may have written its replica: an inotify watch
/// of the replica's folder (Linux) instead of a look at the files four times a second, so that an
/// idle daemon sleeps until a staff application's commit. What inotify cannot see (a network file
/// system written from another machine, a kernel without inotify) is left to a slow look.
///
/// Not `Sendable`: made, awaited and dropped by the one task that holds a pull.
final class ReplicaWatcher {
    /// Whether inotify watches the replica's folder; false when it is unavailable (or a test says
    /// so), and the look then runs every `pollMilliseconds`.
    let isWatching: Bool
    private let path: String
    private let names: Set<String>
    private let wakes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private var iterator: AsyncStream<Void>.Iterator
    private let source: (any DispatchSourceRead)?
    private let timer: any DispatchSourceTimer
    private let changes = ChangeFlag()
    /// The look when inotify watches (the watchdog also needs the loop awake now and then), and when it does not.
    private let fallbackMilliseconds: UInt64
    private let pollMilliseconds: UInt64

    /// Watches the replica at `path`; `inotify: false` stands for a system without it.
    init(path: String, inotify: Bool = true, fallbackMilliseconds: UInt64 = ReplicaWatcher.fallbackMilliseconds, pollMilliseconds: UInt64) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let base = url.lastPathComponent
        names = [base, base + "-wal", base + "-journal"]
        self.fallbackMilliseconds = fallbackMilliseconds
        self.pollMilliseconds = pollMilliseconds
        (wakes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        iterator = wakes.makeAsyncIterator()
        let queue = DispatchQueue(label: "begawi.site.replica-watcher")
        let continuation = self.continuation
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.setEventHandler { continuation.yield() }
        timer.activate()
        let fd = inotify ? Self.watch(folder: url.deletingLastPathComponent().path) : -1
        guard fd >= 0 else {
            source = nil
            isWatching = false
            return
        }
        isWatching = true
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        let names = self.names, changes = self.changes
        source.setEventHandler {
            if Self.drain(fd, names: names) {
                changes.set()
                continuation.yield()
            }
        }
        source.setCancelHandler { close(fd) }
        source.activate()
        self.source = source
    }

    deinit {
        source?.cancel()
        timer.cancel()
        continuation.finish()
    }

    /// Waits until a local write shows in the replica's outbox (`pending` says whether one does).
    /// `onLook` runs at each wake (at least every fallback look) and returns true to stop waiting;
    /// returns whether a write was found. Throws `CancellationError` when the task is cancelled.
    func waitForWrite(pending: () async -> Bool, onLook: () -> Bool) async throws -> Bool {
        var stamp = ReplicaWriteStamp(path: path), looks = 0
        // After a change that did not show yet, look again soon: inotify sees the log frames being
        // written, and the commit shows only after they are synced (a few ms, more on a busy disk).
        var again: [UInt64] = []
        // The first look comes soon, as the pull is on its way: the outbox itself then.
        var first = true
        while true {
            let slow = isWatching ? fallbackMilliseconds : pollMilliseconds
            let delay = first ? min(pollMilliseconds, slow) : min(again.first ?? slow, slow)
            timer.schedule(deadline: .now() + .milliseconds(Int(clamping: delay)), repeating: .never)
            guard await iterator.next() != nil, !Task.isCancelled else { throw CancellationError() }
            if onLook() { return false }
            let now = ReplicaWriteStamp(path: path)
            let changed = changes.take() || now != stamp
            stamp = now
            looks += 1
            // Without inotify: the outbox when the files changed and at the look after, and now and then anyway
            // (a change within the file system's clock tick that left the log's size as it was). With it, at
            // every slow look too (it also stands for what inotify cannot see).
            let ask = first || changed || !again.isEmpty || isWatching || looks % 40 == 1
            if changed { again = isWatching ? [20, 200, 1000, 4000] : [pollMilliseconds] } else if !again.isEmpty { again.removeFirst() }
            first = false
            if ask, await pending() { return true }
        }
    }

    /// The slow look while inotify watches, in ms: well within the service manager's watchdog.
    static let fallbackMilliseconds: UInt64 = 20_000

    /// An inotify descriptor watching `folder` for writes, creations and renames into it; -1 when unavailable.
    private static func watch(folder: String) -> Int32 {
        let fd = inotify_init1(Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC))
        guard fd >= 0 else { return -1 }
        let mask = UInt32(IN_MODIFY) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)
        guard inotify_add_watch(fd, folder, mask) >= 0 else {
            close(fd)
            return -1
        }
        return fd
    }

    /// Reads every queued event; whether one names the replica's files (or the queue overflowed).
    private static func drain(_ fd: Int32, names: Set<String>) -> Bool {
        var hit = false
        let size = 4096
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer, size)
            guard count > 0 else { return hit }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= count {
                let event = buffer.load(fromByteOffset: offset, as: inotify_event.self)
                let length = Int(event.len)
                guard offset + header + length <= count else { break }
                if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    hit = true
                } else if length > 0 {
                    let name = buffer.advanced(by: offset + header).assumingMemoryBound(to: CChar.self)
                    if names.contains(String(cString: name)) { hit = true }
                }
                offset += header + length
            }
        }
    }

    /// Set by the inotify handler, taken by the look.
    private final class ChangeFlag: @unchecked Sendable {
        // @unchecked: the only state is `flag`, always accessed under `lock`.
        private let lock = NSLock()
        private var flag = false

        func set() { lock.withLock { flag = true } }

        func take() -> Bool { lock.withLock { defer { flag = false }; return flag } }
    }
}
