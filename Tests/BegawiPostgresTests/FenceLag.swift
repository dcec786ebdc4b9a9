/// How far the feed's fence trails the changes already written: what readers cannot have yet.
struct FenceLag: Sendable, Equatable {
    /// Committed changes not yet given a position: held back by an older transaction still open
    /// (anywhere on the server: the fence is the oldest one), or waiting for the next publish.
    var changes: Int64
    /// How long the oldest of them has waited, in seconds (0 when none waits).
    var seconds: Double

    /// Makes a lag.
    init(changes: Int64, seconds: Double) {
        self.changes = changes
        self.seconds = seconds
    }
}
