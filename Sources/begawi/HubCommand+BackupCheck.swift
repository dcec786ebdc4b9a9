import BegawiHub
import Foundation

extension HubCommand {
    /// `hub backup --check FILE`: the erasures of the log that the backup lacks, by time and row count
    /// (keys only when asked; names never: the log holds none).
    static func checkBackup(_ file: String, log: ErasureLog, keys: Bool) throws {
        let lacking = try SQLiteHubStore.erasures(lackedBy: file, log: log)
        guard !lacking.isEmpty else {
            print("\(file) lacks none of the \(try log.read().entries.count) erasures in \(log.path)")
            return
        }
        print("\(file) lacks \(lacking.count) erasures of \(log.path); a hub started on it erases them again before it serves:")
        print("erased_at\trows" + (keys ? "\tkey" : ""))
        for entry in lacking { print("\(HubCommand.time(entry.at))\t\(entry.rows.count)" + (keys ? "\t\(entry.person)" : "")) }
    }
}
