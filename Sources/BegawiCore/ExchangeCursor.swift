/// How far a receiver has taken in one exporter's changes.
///
/// `seq`: every row whose last change is at or before it has been received. `baseSeq`: every
/// register changed at or before it has been received (it catches up to `seq` when a batch
/// reaches the exporter's newest change). On the wire and in `_begawi_cursors` the two are `base`
/// and `position`.
public struct ExchangeCursor: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Registers changed at or before this are held.
    public var baseSeq: UInt64
    /// Rows last changed at or before this are held.
    public var seq: UInt64

    /// Makes a cursor.
    public init(baseSeq: UInt64, seq: UInt64) {
        self.baseSeq = baseSeq
        self.seq = seq
    }

    /// The cursor of a receiver that holds nothing.
    public static let start = ExchangeCursor(baseSeq: 0, seq: 0)

    /// The largest sequence number a cursor can name: sequence numbers are SQLite's signed 64-bit integers.
    public static let maxSeq = UInt64(Int64.max)

    public var description: String { "\(baseSeq)/\(seq)" }

    enum CodingKeys: String, CodingKey {
        case baseSeq = "base"
        case seq = "position"
    }
}
