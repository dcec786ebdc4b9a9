import Dispatch
import Foundation

/// How `begawi demo --keep` waits for Ctrl-C (SIGINT) or SIGTERM while the hub serves.
enum DemoSignals {
    /// Blocks until SIGINT or SIGTERM arrives.
    static func waitForStop() {
        let arrived = DispatchSemaphore(value: 0)
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN) // delivered to the dispatch source instead of ending the process
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { arrived.signal() }
            source.resume()
            return source
        }
        arrived.wait()
        for source in sources { source.cancel() }
    }
}
