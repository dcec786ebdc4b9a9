import BegawiCore
import Foundation

extension HubClient {
    /// Fetches a part of the hub's snapshot: `table`'s rows after `after` that this site may see, as a
    /// SQLite file (the transport undoes the gzip; `compressed` false asks the hub to send it as it is,
    /// which an older hub ignores). A hub without snapshots answers 404.
    public func snapshotPart(hubReplicaID: String, table: String, after: String?, maxRows: Int, compressed: Bool = true) async throws -> [UInt8] {
        let name = table.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? table
        let path = "/v1/snapshot?epoch=\(hubReplicaID)&table=\(name)&max_rows=\(maxRows)" + (compressed ? "" : "&encoding=identity")
        let response = try await transport.send(HubRequest(method: "GET", path: path,
                                                           headers: headers + (after.map { [(WireHeader.snapshotAfter, $0)] } ?? [])))
        try HubClient.check(response)
        return response.body
    }
}
