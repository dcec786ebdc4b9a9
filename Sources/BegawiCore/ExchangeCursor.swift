/// How far a receiver has taken in one exporter's changes.
///
/// `position`: every row whose last change is at or before it has been received. `base`: every
/// register changed at or before it has been received (it catches up to `position` when a batch
/// reaches the exporter's newest change).
public struct ExchangeCursor: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Registers changed at or before this are held.
    public var base: UInt64
    /// Rows last changed at or before this are held.
    public var position: UInt64

    /// Makes a cursor.
    public init(base: UInt64, position: UInt64) {
        self.base = base
        self.position = position
    }

    /// The cursor of a receiver that holds nothing.
    public static let start = ExchangeCursor(base: 0, position: 0)

    /// The largest position a cursor can name: sequence numbers are SQLite's signed 64-bit integers.
    public static let maxPosition = UInt64(Int64.max)

    public var description: String { "\(base)/\(position)" }
}
