import Foundation

extension TestDatabase {
    /// The files that hold this database's tables and indexes on the server's disk (its folder
    /// under `base/`), after a `CHECKPOINT` has written every changed page there, so that a search of
    /// their raw bytes sees what someone holding a copy of the disk would: dead row versions and free
    /// space included. The write-ahead log (`pg_wal`) is shared by every database of the cluster and
    /// left out. The test server's role is its superuser and the tests run as root, so both the
    /// checkpoint and the reads are allowed.
    func files() throws -> [String] {
        _ = try TestDatabase.psql(url, "CHECKPOINT")
        let answer = try TestDatabase.psql(url, "SELECT current_setting('data_directory') || '/base/' || oid FROM pg_database WHERE datname = current_database()")
        let folder = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !folder.isEmpty else { throw ClusterError("the test server did not name the database's folder") }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        return names.sorted().map { folder + "/" + $0 }.filter { path in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && !isFolder.boolValue
        }
    }
}
