import Foundation

/// Counts events and logs them once per window instead of once per event: the first event opens
/// a window of `seconds`, and its end hands the tally to `emit`. A flood of refusals thus costs one
/// log line per interval, and a quiet hub logs nothing.
final class LogWindow<Tally: Sendable>: @unchecked Sendable {
    // @unchecked: `tally` and `open` are only touched under `lock`.
    private let lock = NSLock()
    private let empty: Tally
    private var tally: Tally
    private var open = false
    private let seconds: @Sendable () -> Int
    private let emit: @Sendable (Tally, Int) -> Void

    init(empty: Tally, seconds: @escaping @Sendable () -> Int, emit: @escaping @Sendable (Tally, Int) -> Void) {
        self.empty = empty
        self.tally = empty
        self.seconds = seconds
        self.emit = emit
    }

    /// Adds an event to the tally, opening a window if none is open.
    func record(_ change: (inout Tally) -> Void) {
        let opened: Bool = lock.withLock {
            change(&tally)
            defer { open = true }
            return !open
        }
        guard opened else { return }
        let length = seconds()
        // One sleeping task per window, not per event.
        Task { [self] in
            try? await Task.sleep(for: .seconds(length))
            let done: Tally = lock.withLock {
                defer { tally = empty; open = false }
                return tally
            }
            emit(done, length)
        }
    }
}
