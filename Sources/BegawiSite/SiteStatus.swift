public import BegawiCore
import Foundation

/// What the daemon last knew of its sync state, kept in a small JSON file for `begawi site status`.
public struct SiteStatus: Sendable, Codable, Equatable {
    /// When a round last completed (ms since the Unix epoch).
    public var lastSuccessAt: UInt64?
    /// The last failure's message and time, if the last round failed.
    public var lastError: String?
    public var lastErrorAt: UInt64?
    /// The hub's replica id (its epoch) at the last session.
    public var hubReplicaID: String?
    /// The estimated clock offset to the hub, in ms (added to local time).
    public var clockOffsetMilliseconds: Int64?
    /// The hub's cursor for this replica at the last contact: local changes up to it are stored there.
    public var acknowledged: ExchangeCursor?
    /// Rows sent and received in the last round.
    public var lastRoundSent: Int?
    public var lastRoundReceived: Int?
    /// Changes waiting to be pushed (filled in when the status is shown).
    public var pendingChanges: Int?
    /// Changes the hub refused or this site held back (filled in when the status is shown).
    public var refusals: Int?
    /// Rows this site's own checks hold back (`invalid-nik`, `key-mismatch`): not synced until fixed
    /// (filled in when the status is shown).
    public var heldBack: Int?

    /// An empty status.
    public init() {}

    // The status file and `site status --json` keep the key `hubEpoch`.
    enum CodingKeys: String, CodingKey {
        case lastSuccessAt, lastError, lastErrorAt, clockOffsetMilliseconds, acknowledged, lastRoundSent, lastRoundReceived
        case pendingChanges, refusals, heldBack
        case hubReplicaID = "hubEpoch"
    }

    /// Reads the file; a missing or unreadable file is an empty status.
    public static func load(from path: String) -> SiteStatus {
        guard let data = FileManager.default.contents(atPath: path),
              let status = try? JSONDecoder().decode(SiteStatus.self, from: data) else { return SiteStatus() }
        return status
    }

    /// Writes the file atomically (a reader never sees half of it).
    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let partial = path + ".partial"
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: partial))
            _ = rename(partial, path)
        } catch {
            throw BegawiError(.storage, "cannot write the status file \(path); check that its folder is writable", cause: "\(error)")
        }
    }
}
