import BegawiCore
import BegawiReplica
import Foundation

// Prints the figures of BENCHMARKS.md. Usage: begawi-bench [capture|apply|bytes|all] [--rows N]
let arguments = CommandLine.arguments.dropFirst()
let which = arguments.first { !$0.hasPrefix("--") } ?? "all"
let rows = arguments.firstIndex(of: "--rows").flatMap { Int(arguments[arguments.index(after: $0)]) } ?? 100_000
let folder = NSTemporaryDirectory() + "begawi-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: folder) }

let bench = Bench(folder: folder, rows: rows)
print("begawi-bench: \(rows) rows, SQLite \(String(cString: sqlite3VersionString())), \(ProcessInfo.processInfo.activeProcessorCount) cores, files in \(folder)")
if which == "capture" || which == "all" { try bench.capture() }
if which == "apply" || which == "all" { try bench.apply() }
if which == "bytes" || which == "all" { try bench.bytes() }
if which == "profile-apply" { try bench.profileApply() }
if which == "profile-conflict" { try bench.profileConflict() }
if which == "profile-capture" { try bench.profileCapture(synced: arguments.contains("--synced")) }
