import Foundation

/// Counts events and logs them once per window instead of once per event: the first event opens
/// a window of `seconds`, and its end hands the tally to `emit`. A flood of refusals thus costs one
/// log line per interval, and a quiet hub logs nothing.
///
/// The windows' timer is `run()`, a child task of the server: it ends with the server, and a window
/// still open then is not logged.
final class LogWindow<Tally: Sendable>: @unchecked Sendable {
    // @unchecked: `tally` and `open` are only touched under `lock`.
    private let lock = NSLock()
    private let empty: Tally
    private var tally: Tally
    private var open = false
    private let seconds: @Sendable () -> Int
    private let emit: @Sendable (Tally, Int) -> Void
    /// One element per window opened: its length in seconds.
    private let openings: AsyncStream<Int>
    private let opened: AsyncStream<Int>.Continuation

    init(empty: Tally, seconds: @escaping @Sendable () -> Int, emit: @escaping @Sendable (Tally, Int) -> Void) {
        self.empty = empty
        self.tally = empty
        self.seconds = seconds
        self.emit = emit
        (openings, opened) = AsyncStream.makeStream(of: Int.self)
    }

    /// Adds an event to the tally, opening a window if none is open.
    func record(_ change: (inout Tally) -> Void) {
        let opening: Bool = lock.withLock {
            change(&tally)
            defer { open = true }
            return !open
        }
        if opening { opened.yield(seconds()) }
    }

    /// Closes each window when its time is up and logs its tally, until the task is cancelled.
    func run() async {
        for await length in openings {
            do { try await Task.sleep(for: .seconds(length)) } catch { return }
            let done: Tally = lock.withLock {
                defer { tally = empty; open = false }
                return tally
            }
            emit(done, length)
        }
    }
}
