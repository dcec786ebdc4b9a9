import Foundation

/// Asks `condition` every 50 ms until it holds or `seconds` pass; whether it held. For what a
/// daemon does in its own time: a test waits for it, bounded, instead of sleeping a fixed while.
func waitFor(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
}
