import BegawiCore
import Foundation

/// Runs SQL through the real `sqlite3` shell on a site's replica, as any staff application could
/// write to it. The SQL (which holds the people's data) goes through standard input and is never
/// printed.
struct DemoShell {
    let folder: String

    /// Runs `sql` at a site and prints what the staff did there; returns what the shell printed.
    @discardableResult
    func run(_ site: String, _ what: String, _ sql: String) throws -> String {
        let output = try query(site, sql)
        let statements = sql.split(separator: "\n").count
        print("  \(site): \(what) (\(statements) statement\(statements == 1 ? "" : "s") through sqlite3)")
        return output
    }

    /// Runs `sql` at a site without a word; returns what the shell printed.
    func query(_ site: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["\(folder)/\(site).sqlite"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            throw BegawiError(.invalidArgument, "the demo needs the sqlite3 shell at /usr/bin/sqlite3 (apt-get install sqlite3)")
        }
        input.fileHandleForWriting.write(Data((".bail on\n.timeout 5000\n" + sql + "\n").utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            // The shell's message may quote the statement, and with it personal data: not shown.
            throw BegawiError(.invalidArgument, "the sqlite3 shell failed at \(site) (status \(process.terminationStatus)); run the demo with --keep and open \(folder)/\(site).sqlite to look")
        }
        return text
    }

    /// A SQL literal: NULL, or the text in single quotes.
    static func quote(_ text: String?) -> String {
        guard let text else { return "NULL" }
        return "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
