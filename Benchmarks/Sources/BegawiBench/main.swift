import BegawiCore
import BegawiReplica
import Foundation

// Prints the figures of BENCHMARKS.md. Usage: begawi-bench [capture|apply|bytes|lock-hold|all] [--rows N]
// (lock-hold: 1,000,000 rows unless --rows is given with it; in `all`, always 1,000,000)
let arguments = CommandLine.arguments.dropFirst()
let which = arguments.first { !$0.hasPrefix("--") } ?? "all"
let givenRows = arguments.firstIndex(of: "--rows").flatMap { arguments.index(after: $0) < arguments.endIndex ? Int(arguments[arguments.index(after: $0)]) : nil }
let rows = which == "lock-hold" ? givenRows ?? 1_000_000 : givenRows ?? 100_000
let folder = NSTemporaryDirectory() + "begawi-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: folder) }

let bench = Bench(folder: folder, rows: rows)
print("begawi-bench: \(rows) rows, SQLite \(String(cString: sqlite3VersionString())), \(ProcessInfo.processInfo.activeProcessorCount) cores, files in \(folder)")
if which == "capture" || which == "all" { try bench.capture() }
if which == "apply" || which == "all" { try bench.apply() }
if which == "bytes" || which == "all" { try bench.bytes() }
if which == "lock-hold" { try bench.lockHold() }
if which == "all" { try Bench(folder: folder, rows: 1_000_000).lockHold() }
if which == "profile-apply" { try bench.profileApply() }
if which == "profile-conflict" { try bench.profileConflict() }
if which == "profile-capture" { try bench.profileCapture(synced: arguments.contains("--synced")) }
