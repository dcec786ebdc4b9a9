import Foundation
import Logging

/// Counts the hub's open connections, in all and per address, and turns away those past the
/// limits (`max_connections`, `max_connections_per_address`) as soon as they are accepted (see
/// `HubChildChannel`). The
/// refusals are logged as one summary per `log_interval_seconds`, never one line per connection.
final class ConnectionGate: @unchecked Sendable {
    // @unchecked: the counts are only touched under `lock`.
    private let lock = NSLock()
    private var total = 0
    private var perAddress: [String: Int] = [:]
    private var refusedFull: UInt64 = 0
    private var refusedPerAddress: UInt64 = 0
    private let settings: HubSettings
    /// The most connections the open-file limit allows, whatever `max_connections` says.
    let ceiling: Int
    let refusals: LogWindow<Refusals>

    /// Connections turned away during one log window.
    struct Refusals: Sendable {
        var full = 0
        var perAddress = 0
        /// The addresses turned away.
        var addresses = AddressTally()
    }

    /// What the gate decided for a new connection.
    enum Admission: Equatable {
        case admitted
        case full
        case addressFull
    }

    init(settings: HubSettings, ceiling: Int, logger: Logger) {
        self.settings = settings
        self.ceiling = ceiling
        refusals = LogWindow(empty: Refusals(), seconds: { settings.configuration.logIntervalSeconds }) { tally, seconds in
            let c = settings.configuration
            logger.warning("\(tally.full + tally.perAddress) connections refused in the last \(seconds) s: \(tally.full) past the limit of \(min(c.maxConnections, ceiling)) open connections (max_connections), \(tally.perAddress) past \(c.maxConnectionsPerAddress) from one address (max_connections_per_address)",
                           metadata: ["refused": "\(tally.full + tally.perAddress)", "addresses": "\(tally.addresses.count)", "top": "\(tally.addresses.top)"])
        }
    }

    /// The limit on all connections in force.
    var limit: Int { min(settings.configuration.maxConnections, ceiling) }

    /// Counts a new connection from `address` in, or says why it is turned away.
    func admit(_ address: String) -> Admission {
        let limit = self.limit
        let perAddressLimit = settings.configuration.maxConnectionsPerAddress
        let admission: Admission = lock.withLock {
            if total >= limit {
                refusedFull += 1
                return .full
            }
            if perAddress[address, default: 0] >= perAddressLimit {
                refusedPerAddress += 1
                return .addressFull
            }
            total += 1
            perAddress[address, default: 0] += 1
            return .admitted
        }
        if admission != .admitted {
            refusals.record { tally in
                if admission == .full { tally.full += 1 } else { tally.perAddress += 1 }
                tally.addresses.note(address)
            }
        }
        return admission
    }

    /// Counts an admitted connection out once it has closed.
    func release(_ address: String) {
        lock.withLock {
            total -= 1
            let left = perAddress[address, default: 1] - 1
            perAddress[address] = left > 0 ? left : nil
        }
    }

    /// Open connections now, and those turned away since the start (past `max_connections`, past
    /// `max_connections_per_address`), for `/metrics`.
    var figures: (open: Int, refusedFull: UInt64, refusedPerAddress: UInt64) {
        lock.withLock { (total, refusedFull, refusedPerAddress) }
    }
}
