/// Sizes pushed batches to a few seconds of the link's measured throughput.
///
/// A connection that breaks loses the batch in flight: on a slow link a fixed 2,000-row batch is
/// ~10 s of transfer thrown away at each reset. Smaller is not free either: each batch pays a round
/// trip and deflates worse (3 s batches made a steady 64 kbit/s sync 30 % slower, 8 s ones 3 %).
/// So the size follows the link: it starts small, grows at most twofold per batch while transfers
/// are quick, shrinks at once when one is slow, and stays within `minRows...maxRows`. A value
/// type without I/O: the round feeds it what each push took, a test feeds it made-up figures.
struct BatchSizer: Sendable, Equatable {
    /// The seconds one batch should take, round trip and the hub's commit included.
    let targetSeconds: Double
    /// Bounds on the rows of one batch.
    let minRows: Int
    let maxRows: Int
    /// The rows the next batch may hold.
    private(set) var rows: Int
    /// Recent throughput in encoded bytes per second (nil before the first measurement).
    private(set) var bytesPerSecond: Double?
    /// Recent encoded bytes per row.
    private(set) var bytesPerRow: Double?

    /// Makes a sizer that starts at `startRows` (clamped to the bounds).
    init(maxRows: Int, minRows: Int = 50, startRows: Int = 400, targetSeconds: Double = 8) {
        self.maxRows = max(1, maxRows)
        self.minRows = min(max(1, minRows), self.maxRows)
        self.targetSeconds = targetSeconds
        rows = min(max(startRows, self.minRows), self.maxRows)
    }

    /// Takes one acknowledged push: its rows, its encoded bytes and the seconds from send to answer.
    mutating func record(rows sent: Int, bytes: Int, seconds: Double) {
        guard sent > 0, bytes > 0, seconds.isFinite, seconds > 0 else { return }
        let rate = Double(bytes) / seconds, perRow = Double(bytes) / Double(sent)
        // A batch much smaller than the target is mostly round trip: its rate says little, so the
        // estimate leans on it only as far as it filled the target.
        let weight = min(1, max(0.25, seconds / targetSeconds))
        bytesPerSecond = bytesPerSecond.map { $0 + weight * (rate - $0) } ?? rate
        bytesPerRow = bytesPerRow.map { $0 + 0.5 * (perRow - $0) } ?? perRow
        let wanted = (bytesPerSecond! * targetSeconds / bytesPerRow!).rounded()
        // Grow from what was sent (a short tail batch says nothing about the size that works), shrink from the plan.
        let ceiling = Double(max(rows, sent)) * 2
        let next = min(wanted, ceiling, Double(maxRows))
        rows = max(minRows, Int(next.isFinite ? max(next, 1) : Double(minRows)))
    }
}
