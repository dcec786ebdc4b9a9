/// Events per client address during one log window, for a summary line. At most `maxAddresses`
/// are named: a flood from many addresses must not grow the tally without bound.
struct AddressTally: Sendable {
    static let maxAddresses = 1000
    private var counts: [String: Int] = [:]

    /// Counts one event from `address` (not named once the tally is full of others).
    mutating func note(_ address: String) {
        if counts[address] != nil || counts.count < Self.maxAddresses { counts[address, default: 0] += 1 }
    }

    /// How many addresses are named.
    var count: Int { counts.count }

    /// The five busiest addresses, as `ADDRESS (N)`.
    var top: String {
        counts.sorted { $0.value > $1.value }.prefix(5).map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
    }
}
