@testable import BegawiSite
import BegawiCore
import BegawiReplica
import BegawiRules
import Foundation
import Testing

/// A site takes from its hub only a schema that matches the session's digest and only adds to its
/// own tables: a hostile or mistaken hub cannot make it drop a column (issue 14, item 2).
@Suite struct SchemaFollowRefusalTests {
    /// A hub whose session names schema version 2 with `digest`, and which serves `document` for it.
    struct Hub: HubTransport {
        let document: String
        let digest: String

        func send(_ request: HubRequest) async throws -> HubResponse {
            if request.path.hasPrefix("/v1/schema?version=2") { return HubResponse(status: 200, headers: [:], body: Array(document.utf8)) }
            guard request.path == "/v1/session" else { return HubResponse(status: 500, headers: [:], body: []) }
            let session = """
                {"site": "lpk-a", "epoch": "0190a000-0000-7000-8000-000000000001", "lineage": [], "push_cursor": {"base": 0, "position": 0},
                 "max_clock_skew_milliseconds": 60000, "max_body_bytes": 1000000, "page_rows": 100,
                 "schema_version": 2, "schema_digest": "\(digest)"}
                """
            return HubResponse(status: 200, headers: [:], body: Array(session.utf8))
        }
    }

    static let dropsNotes = #"{"version": 2, "tables": [{"name": "programs", "columns": [{"name": "title", "not_null": true, "max_bytes": 16}, {"name": "sector"}]}]}"#
    static let addsRoom = #"{"version": 2, "tables": [{"name": "programs", "columns": [{"name": "title", "not_null": true, "max_bytes": 16}, {"name": "sector"}, {"name": "notes", "multiline": true}, {"name": "room"}]}]}"#

    /// Runs one round against `hub`; returns its error and the replica's columns and version after it.
    func round(_ hub: Hub) async throws -> (BegawiError?, [String], Int?) {
        let c = try SiteDaemonTests().configuration()
        let daemon = SiteDaemon(configuration: c, transport: hub, logger: SiteDaemonTests.logger)
        var failure: BegawiError?
        do { _ = try await daemon.syncOnce() } catch let error as BegawiError { failure = error }
        let replica = try Replica.open(at: c.replicaPath)
        defer { try? replica.close() }
        return (failure, replica.schema.table(named: "programs")?.columns.map(\.name) ?? [], try replica.schemaVersion())
    }

    @Test func aSchemaThatDropsAColumnIsRefusedAndChangesNothing() async throws {
        let digest = try SchemaDocument.parse(Data(Self.dropsNotes.utf8)).digest
        let (error, columns, version) = try await round(Hub(document: Self.dropsNotes, digest: digest))
        #expect(error?.code == .invalidSchema)
        #expect(error?.message.contains("does not only add to this replica's version 1") == true, "\(String(describing: error))")
        #expect(columns == ["title", "sector", "notes"])
        #expect(version == nil)
    }

    @Test func aSchemaThatDoesNotMatchTheSessionsDigestIsRefused() async throws {
        let (error, columns, version) = try await round(Hub(document: Self.addsRoom, digest: String(repeating: "0", count: 64)))
        #expect(error?.message.contains("is not the version 2 its session names") == true, "\(String(describing: error))")
        #expect(columns == ["title", "sector", "notes"])
        #expect(version == nil)
    }
}
