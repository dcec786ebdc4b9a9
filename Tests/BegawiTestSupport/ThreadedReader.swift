public import Foundation

/// Reads a pipe to its end on its own thread.
public final class ThreadedReader: @unchecked Sendable {
    // @unchecked: `data` is written once by the reading thread before `done` is signalled.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    /// Starts reading `handle` on a new thread.
    public init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    /// Waits for the end of the pipe and returns what it held, as text.
    public func finish() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
