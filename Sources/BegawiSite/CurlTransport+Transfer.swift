import Foundation

extension CurlTransport {
    /// What one transfer collects. curl's callbacks reach it through an unmanaged pointer, always on the transport's queue.
    final class Transfer {
        /// Response headers of the last response seen, names in lowercase.
        var headers: [String: String] = [:]
        /// The response body, already content-decoded by curl.
        var body: [UInt8] = []
        /// Set when the waiting task is cancelled; the progress callback aborts the transfer.
        let cancellation: Cancellation
        /// Called when the transfer moved bytes since the progress callback last ran.
        let onActivity: (@Sendable () -> Void)?
        /// Bytes moved so far (down and up), and when they last moved (or the transfer began).
        private(set) var moved: Int64 = 0
        private(set) var movedAt = ContinuousClock.now

        init(cancellation: Cancellation, onActivity: (@Sendable () -> Void)?) {
            self.cancellation = cancellation
            self.onActivity = onActivity
        }

        /// Takes the bytes moved so far (down and up) from the progress callback.
        func progressed(to total: Int64) {
            guard total != moved else { return }
            moved = total
            movedAt = .now
            onActivity?()
        }

        /// Takes one header line as curl delivers it, CRLF included.
        func receiveHeaderLine(_ line: UnsafeRawBufferPointer) {
            let text = String(decoding: line, as: UTF8.self)
            // A new status line starts a new response (an interim 1xx, or a proxy's answer): forget the earlier headers.
            if text.hasPrefix("HTTP/") {
                headers = [:]
                return
            }
            guard let colon = text.firstIndex(of: ":") else { return }
            let name = text[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty else { return }
            headers[name] = value
        }
    }

    /// A flag that the cancellation handler sets from any thread and the transfer's progress callback reads.
    final class Cancellation: @unchecked Sendable {
        // @unchecked: the only state is `flag`, always accessed under `lock`.
        private let lock = NSLock()
        private var flag = false

        /// Whether the waiting task was cancelled.
        var isCancelled: Bool { lock.withLock { flag } }

        /// Marks the transfer cancelled.
        func cancel() { lock.withLock { flag = true } }
    }
}
