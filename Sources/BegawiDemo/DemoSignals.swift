import UnixSignals

/// How `begawi demo --keep` waits for Ctrl-C (SIGINT) or SIGTERM while the hub serves: the same
/// signal sequence the daemons' service groups use, no dispatch source beside it.
enum DemoSignals {
    /// Returns once SIGINT or SIGTERM arrives (both are trapped: neither ends the process).
    static func waitForStop() async {
        for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { return }
    }
}
