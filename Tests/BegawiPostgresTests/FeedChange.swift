/// One change as the feed delivers it.
struct FeedChange: Sendable, Hashable {
    /// Its place in the feed: a reader's cursor is the last position it took.
    var position: UInt64
    /// The number the change got when it was written (allocation order, not delivery order).
    var id: Int64
    /// What the writer recorded.
    var body: [UInt8]

    /// Makes a change.
    init(position: UInt64, id: Int64, body: [UInt8]) {
        self.position = position
        self.id = id
        self.body = body
    }
}
